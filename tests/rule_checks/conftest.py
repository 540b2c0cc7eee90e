"""Factories for the rule tests: a valid baseline submission and context, and the .eml fixtures."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mailgate.mail.model import ItemParts, Signature, SubjectInfo, Submission
from mailgate.mail.parse import parse_message
from mailgate.registry import Registry, load_registry
from rules import Context, Finding, Inbox, Rule

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
CST = dt.timezone(dt.timedelta(hours=8))
#: When the baseline message arrived; the .eml fixtures are dated a minute or two before.
RECEIVED_AT = dt.datetime(2004, 1, 8, 10, 0, tzinfo=CST)

TITLE = "天河区软件产业园区建设成效明显"
MAIN = (
    "今年以来，天河区围绕建设软件产业园区，加快基础设施建设，完善配套服务，"
    "全区软件企业达到三百二十家，实现产值四十五亿元，同比增长百分之二十八。"
)
SIGNATURE = "作者单位：天河区人民政府办公室\n姓名：张三\n联系电话：020-38622000\n日期：2004年1月8日"

BASELINE = Submission(
    raw_size=4096,
    content_hash="0" * 64,
    message_id="200401080958310001@th.gz.gov.cn",
    from_address="xxy@th.gz.gov.cn",
    from_name="天河区人民政府办公室",
    subject=SubjectInfo(raw=f"【天河区】{TITLE}", identifier="天河区", title=TITLE),
    date=RECEIVED_AT - dt.timedelta(minutes=2),
    in_reply_to=None,
    references=(),
    headers=(("from", "天河区人民政府办公室 <xxy@th.gz.gov.cn>"), ("to", "inf@gzy.gov.cn")),
    return_path="xxy@th.gz.gov.cn",
    body=f"{TITLE}\n{MAIN}\n{SIGNATURE}\n",
    body_from_html=False,
    parts=ItemParts(
        title=TITLE,
        main=MAIN,
        signature=Signature(
            unit="天河区人民政府办公室",
            name="张三",
            phone="020-38622000",
            phone_valid=True,
            date=dt.date(2004, 1, 8),
            date_text="2004年1月8日",
            raw=SIGNATURE,
        ),
        source=None,
        signature_count=1,
    ),
    attachments=(),
)


def _merge(obj: Any, overrides: dict[str, Any]) -> Any:
    """``obj`` with ``overrides``; a dict given for a dataclass field is merged into that field."""
    changes = {
        key: _merge(getattr(obj, key), value)
        if isinstance(value, dict) and dataclasses.is_dataclass(getattr(obj, key))
        else value
        for key, value in overrides.items()
    }
    return dataclasses.replace(obj, **changes)


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry(HERE / "registry.toml")


@pytest.fixture
def make_submission() -> Callable[..., Submission]:
    """``make_submission(subject={"revision": True}, parts={"signature": None}, ...)``."""

    def make(**overrides: Any) -> Submission:
        return _merge(BASELINE, overrides)  # type: ignore[no-any-return]

    return make


@pytest.fixture
def make_context(registry: Registry) -> Callable[..., Context]:
    """``make_context(inbox=..., settings=RulesSettings(...), history=History(...), ...)``."""

    def make(**overrides: Any) -> Context:
        base = Context(registry=registry, inbox=Inbox.DAILY, received_at=RECEIVED_AT)
        return dataclasses.replace(base, **overrides)

    return make


@pytest.fixture
def check(make_context: Callable[..., Context]) -> Callable[..., list[Finding]]:
    """Run one rule; every finding must name the rule and render to a complete message."""

    def run(rule: Rule, submission: Submission, context: Context | None = None) -> list[Finding]:
        findings = list(rule.check(submission, context or make_context()))
        for finding in findings:
            assert finding.rule == rule.name
            assert finding.severity is rule.severity
            assert finding.reason in rule.messages
            # Every placeholder of the template is filled (format_map raises KeyError otherwise).
            assert rule.messages[finding.reason].format_map(dict(finding.params))
        return findings

    return run


@pytest.fixture
def parse() -> Callable[[Path], Submission]:
    return lambda path: parse_message(path.read_bytes(), max_size=25 * 1024 * 1024)


def fixture_paths(rule_id: str) -> list[Path]:
    return sorted((FIXTURES / rule_id).glob("*.eml"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give ``eml`` every fixture of the test module's ``RULE_ID``, hits and misses."""
    if "eml" in metafunc.fixturenames:
        paths = fixture_paths(metafunc.module.RULE_ID)
        for kind in ("hit", "miss"):
            assert any(p.name.startswith(kind) for p in paths), f"{metafunc.module.RULE_ID}: no {kind}*.eml"
        metafunc.parametrize("eml", paths, ids=lambda p: p.name)
