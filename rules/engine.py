"""Run the rules over one submission and fold their findings into a verdict."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from mailgate.mail.model import Submission
from rules.base import Finding, Outcome, Rule, Severity, Verdict
from rules.context import Context


def evaluate(submission: Submission, context: Context, rules: Iterable[Rule]) -> Verdict:
    """Apply ``rules`` in order with the configured severities.

    An ``ignore`` finding ends evaluation at once (nothing else matters for a message that gets
    no answer); so does any finding of a rule marked ``final``. Otherwise every finding is kept.
    """
    findings: list[Finding] = []
    for rule in rules:
        severity = context.severity_of(rule)
        if severity is Severity.OFF:
            continue
        produced = [replace(f, severity=severity) for f in rule.check(submission, context)]
        findings.extend(produced)
        if produced and (severity is Severity.IGNORE or rule.final):
            break
    return Verdict(outcome=_outcome(findings), findings=tuple(findings))


def _outcome(findings: list[Finding]) -> Outcome:
    severities = {f.severity for f in findings}
    if Severity.IGNORE in severities:
        return Outcome.IGNORED
    if Severity.REJECT in severities:
        return Outcome.REJECTED
    return Outcome.ACCEPTED
