"""Properties every rule keeps: it never raises, and each finding renders to a complete message."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailgate.config import RulesSettings
from mailgate.mail.model import (
    Attachment,
    EncodingIssue,
    EncodingProblem,
    ItemParts,
    Signature,
    SubjectInfo,
    Submission,
    WordKind,
    WordProblem,
    WordText,
)
from mailgate.registry import Registry
from rules import Context, History, Inbox, PriorItem, default_rules, render

RULES = default_rules()
TEXT = st.text(max_size=40)
ADDRESSES = st.sampled_from(
    [None, "", "xxy@th.gz.gov.cn", "old@th.gz.gov.cn", "mailer-daemon@x.cn", "a@b@c", "@", "noat"]
)
HEADER_NAMES = st.sampled_from(
    [
        "auto-submitted",
        "precedence",
        "list-id",
        "x-loop",
        "content-type",
        "authentication-results",
        "x-autoreply",
    ]
)
AUTH_RESULTS = st.sampled_from(
    [
        "mx.gzy.gov.cn; spf=fail smtp.mailfrom=",
        "mx.gzy.gov.cn; dkim=fail header.d=",
        "mx.gzy.gov.cn",
        ";;=",
        "(",
    ]
)
MOMENTS = st.datetimes(
    min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30), timezones=st.timezones()
) | st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30))

words = st.builds(
    WordText, st.sampled_from(WordKind), st.none() | TEXT, st.none() | st.sampled_from(WordProblem)
)
attachments = st.builds(Attachment, st.none() | TEXT, TEXT, st.integers(0, 10**9), st.none() | words)
signatures = st.builds(
    Signature,
    st.none() | TEXT,
    st.none() | TEXT,
    st.none() | TEXT,
    st.booleans(),
    st.none() | st.dates(),
    st.none() | TEXT,
    TEXT,
)
subjects = st.builds(
    SubjectInfo,
    TEXT,
    st.none() | st.sampled_from(["天河区", "越秀區", "天河局"]) | TEXT,
    TEXT,
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.none() | TEXT,
)
parts = st.builds(
    ItemParts, st.none() | TEXT, TEXT, st.none() | signatures, st.none() | TEXT, st.integers(0, 5), TEXT
)
headers = st.lists(st.tuples(HEADER_NAMES, TEXT | AUTH_RESULTS.map(lambda v: v + "th.gz.gov.cn")), max_size=4)
issues = st.lists(
    st.builds(
        EncodingIssue,
        st.sampled_from(["subject", "from", "body", "?"]),
        st.sampled_from(EncodingProblem),
        TEXT,
    ),
    max_size=2,
)
submissions = st.builds(
    Submission,
    raw_size=st.integers(0, 10**10),
    content_hash=TEXT,
    message_id=st.none() | TEXT,
    from_address=ADDRESSES,
    from_name=TEXT,
    subject=subjects,
    date=st.none() | MOMENTS,
    in_reply_to=st.none() | TEXT,
    references=st.just(()),
    headers=headers.map(tuple),
    return_path=st.none() | st.just("") | TEXT,
    body=TEXT,
    body_from_html=st.booleans(),
    parts=parts,
    attachments=st.lists(attachments, max_size=3).map(tuple),
    encoding_issues=issues.map(tuple),
    truncated=st.booleans(),
)
histories = st.builds(
    History,
    st.none() | st.sampled_from(["message-id", "content-hash"]),
    st.none() | st.builds(PriorItem, TEXT, TEXT, TEXT, st.sampled_from(["in-reply-to", "title"])),
)
rule_settings = st.builds(
    RulesSettings,
    timezone=st.sampled_from(["Asia/Shanghai", "UTC", "No/Such_Zone", ""]),
    trusted_authserv_ids=st.sampled_from([[], ["mx.gzy.gov.cn"]]),
    stale_days=st.integers(0, 10**6),
    clock_skew_minutes=st.integers(0, 10**6),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    submission=submissions,
    history=histories,
    inbox=st.sampled_from(Inbox),
    received=MOMENTS,
    conf=rule_settings,
)
def test_rules_never_raise_and_findings_render(
    registry: Registry,
    submission: Submission,
    history: History,
    inbox: Inbox,
    received: dt.datetime,
    conf: Any,
) -> None:
    context = Context(registry, inbox, received, conf, history)
    for rule in RULES:
        for finding in rule.check(submission, context):
            assert finding.rule == rule.name
            assert finding.reason in rule.messages
            assert rule.messages[finding.reason].format_map(dict(finding.params))
            assert render(finding, RULES)
