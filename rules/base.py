"""The vocabulary every rule shares: severities, findings, verdicts and the rule protocol."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from mailgate.mail.model import Submission
    from rules.context import Context


class Severity(enum.StrEnum):
    """What a finding does to the verdict; ``off`` disables a rule by configuration."""

    REJECT = "reject"
    WARN = "warn"
    IGNORE = "ignore"
    OFF = "off"


class Outcome(enum.StrEnum):
    """The three verdicts of SPEC.md."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem a rule found: which rule, how serious, and the facts for its message.

    ``reason`` selects one of the rule's message templates (most rules have only ``"default"``);
    ``params`` fill that template and are reported as they are in JSON and logs.
    """

    rule: str
    severity: Severity
    reason: str = "default"
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome for one message and every finding behind it, in rule order."""

    outcome: Outcome
    findings: tuple[Finding, ...]

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARN)

    @property
    def ignored_by(self) -> Finding | None:
        return next((f for f in self.findings if f.severity is Severity.IGNORE), None)


@runtime_checkable
class Rule(Protocol):
    """A rule: a stable id, a one-line description, its messages and a pure ``check``.

    ``check`` must not do I/O and must not raise on any submission; everything from outside
    comes in the frozen ``Context``. It yields findings with the rule's default severity; the
    engine applies the configured severity.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    severity: ClassVar[Severity]
    #: Stop evaluating further rules once this rule has produced a finding.
    final: ClassVar[bool]
    #: Message templates in Simplified Chinese, keyed by ``Finding.reason``; ``str.format`` syntax.
    messages: ClassVar[Mapping[str, str]]

    def check(self, submission: Submission, context: Context) -> Iterable[Finding]: ...
