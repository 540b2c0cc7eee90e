"""spoofed-sender: only trusted Authentication-Results count, and only failures for the From domain."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mailgate.config import RulesSettings
from mailgate.mail.model import Submission
from rules import Context, Finding
from rules.spoofed_sender import rule

RULE_ID = "spoofed-sender"
Check = Callable[..., list[Finding]]
TRUSTED = RulesSettings(trusted_authserv_ids=["mx.gzy.gov.cn"])


def _with_results(make_submission: Callable[..., Submission], *values: str) -> Submission:
    return make_submission(headers=tuple(("authentication-results", v) for v in values))


@pytest.mark.parametrize(
    ("value", "method"),
    [
        ("mx.gzy.gov.cn; spf=fail smtp.mailfrom=xxy@th.gz.gov.cn", "spf"),
        ("mx.gzy.gov.cn 1; dkim=fail (bad signature) header.d=th.gz.gov.cn header.b=AbC", "dkim"),
        ('MX.GZY.GOV.CN; dkim=fail header.i="@th.gz.gov.cn"', "dkim"),
        ("mx.gzy.gov.cn; spf=pass smtp.mailfrom=a@b.cn; dmarc=fail header.from=qq.com", "dmarc"),
    ],
)
def test_trusted_failure_for_from_domain(
    value: str,
    method: str,
    make_submission: Callable[..., Submission],
    make_context: Callable[..., Context],
    check: Check,
) -> None:
    findings = check(rule, _with_results(make_submission, value), make_context(settings=TRUSTED))
    assert len(findings) == 1
    assert findings[0].params["method"] == method
    assert findings[0].params["authserv_id"] == "mx.gzy.gov.cn"


@pytest.mark.parametrize(
    "value",
    [
        "mx.gzy.gov.cn; spf=pass smtp.mailfrom=xxy@th.gz.gov.cn; dkim=pass header.d=th.gz.gov.cn",
        "mx.gzy.gov.cn; spf=softfail smtp.mailfrom=xxy@th.gz.gov.cn",
        "mx.gzy.gov.cn; dkim=fail header.d=mailer.example.com",  # a third-party signature
        "evil.example.com; spf=fail smtp.mailfrom=xxy@th.gz.gov.cn; dmarc=fail",  # not trusted
        "mx.gzy.gov.cn; none",
        "mx.gzy.gov.cn (comment; dkim=fail header.d=th.gz.gov.cn)",
        "",
    ],
)
def test_not_spoofed(
    value: str, make_submission: Callable[..., Submission], make_context: Callable[..., Context], check: Check
) -> None:
    assert check(rule, _with_results(make_submission, value), make_context(settings=TRUSTED)) == []


def test_nothing_configured_never_fires(make_submission: Callable[..., Submission], check: Check) -> None:
    submission = _with_results(make_submission, "mx.gzy.gov.cn; spf=fail smtp.mailfrom=xxy@th.gz.gov.cn")
    assert check(rule, submission) == []


def test_later_trusted_header_is_read(
    make_submission: Callable[..., Submission], make_context: Callable[..., Context], check: Check
) -> None:
    submission = _with_results(
        make_submission, "other.example; spf=pass", "mx.gzy.gov.cn; dmarc=fail header.from=th.gz.gov.cn"
    )
    assert len(check(rule, submission, make_context(settings=TRUSTED))) == 1


def test_eml(
    eml: Path, parse: Callable[[Path], Submission], make_context: Callable[..., Context], check: Check
) -> None:
    findings = check(rule, parse(eml), make_context(settings=TRUSTED))
    assert bool(findings) == eml.name.startswith("hit"), findings
