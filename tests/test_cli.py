"""The `mailgate check` contract: JSON lines, ordering, exit codes, and no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from messages import BODY as MESSAGE_BODY
from messages import REGISTRY, TITLE

BODY = MESSAGE_BODY.format(title=TITLE)


def write_message(
    path: Path,
    *,
    subject: str = "【天河区】天河区推进智慧城市建设取得新进展",
    body: str = BODY,
    message_id: str = "<a1@th.gz.gov.cn>",
) -> Path:
    msg = EmailMessage()
    msg["From"] = "天河区政府办 <xxy@th.gz.gov.cn>"
    msg["To"] = "inf@gzy.gov.cn"
    msg["Subject"] = subject
    msg["Date"] = "Thu, 26 Nov 2026 09:58:00 +0800"
    msg["Message-ID"] = message_id
    msg["Received"] = "from mx.th.gz.gov.cn by mx.gzy.gov.cn; Thu, 26 Nov 2026 10:00:00 +0800"
    msg.set_content(body, charset="utf-8")
    path.write_bytes(bytes(msg))
    return path


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailgate", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    path = tmp_path / "registry.toml"
    path.write_text(REGISTRY, encoding="utf-8")
    return path


def test_json_lines_in_order_with_duplicates_and_revisions(tmp_path: Path, registry: Path) -> None:
    first = write_message(tmp_path / "1.eml")
    revised = write_message(
        tmp_path / "2.eml",
        subject="【天河区】【修改稿】天河区推进智慧城市建设取得新进展",
        message_id="<a2@th.gz.gov.cn>",
    )
    result = run("check", "--json", "--registry", registry, first, revised, first)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(first), str(revised), str(first)]
    assert [line["verdict"] for line in lines] == ["accepted", "accepted", "ignored"]
    assert lines[2]["findings"][0]["rule"] == "duplicate"
    item, again = lines[0]["item"], lines[1]["item"]
    for key in (
        "unit",
        "title",
        "body_chars",
        "attachment_chars",
        "officer",
        "phone",
        "date",
        "revision",
        "urgent",
        "commissioned",
    ):
        assert key in item
    assert item["unit"] == "天河区"
    assert item["officer"] == "张三"
    assert item["date"] == "2026-11-26"
    assert item["revision"] is False
    assert again["revision"] is True
    assert again["tracking"] == item["tracking"]
    assert lines[2]["item"] is None


def test_rejections_list_every_finding_with_a_chinese_message(tmp_path: Path, registry: Path) -> None:
    body = BODY.replace("联系电话：020-38622000\n", "").replace("作者单位：天河区政府办\n", "")
    path = write_message(tmp_path / "bad.eml", subject="【越秀区】另一个标题", body=body)
    result = run(
        "check", "--json", "--registry", registry, "--received-at", "2026-11-26T10:00:00+08:00", path
    )
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    assert line["verdict"] == "rejected"
    rules = {f["rule"] for f in line["findings"]}
    assert {"identifier", "required-elements", "subject-title"} <= rules
    missing = next(f for f in line["findings"] if f["rule"] == "required-elements")
    assert "作者单位" in missing["message"]
    assert "联系电话" in missing["message"]
    assert all(f["severity"] == "reject" for f in line["findings"])


def test_unreadable_and_garbage_files_still_get_a_verdict(tmp_path: Path, registry: Path) -> None:
    garbage = tmp_path / "garbage.eml"
    garbage.write_bytes(b"\x00\xff" * 1000)
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.eml"
    result = run("check", "--json", "--registry", registry, garbage, empty, missing)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(garbage), str(empty), str(missing)]
    assert lines[0]["verdict"] == "rejected"
    assert lines[2]["verdict"] == "ignored"
    assert "error" in lines[2]


def test_readable_report_in_chinese(tmp_path: Path, registry: Path) -> None:
    path = write_message(tmp_path / "1.eml")
    result = run("check", "--registry", registry, path)
    assert result.returncode == 0, result.stderr
    assert "受理" in result.stdout
    assert "编号" in result.stdout
    bad = write_message(tmp_path / "2.eml", subject="【越秀区】别的标题")
    result = run("check", "--registry", registry, bad)
    assert "退稿" in result.stdout
    assert "[identifier]" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["check"],
        ["check", "--inbox", "spam", "x.eml"],
        ["check", "--received-at", "yesterday", "x.eml"],
        ["check", "--frobnicate", "x.eml"],
        ["nonsense"],
    ],
)
def test_bad_usage_exits_2(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_bad_config_exits_2_with_the_reason(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[rules]\nbody_max_zi = 0\n", encoding="utf-8")
    result = run("check", "--config", config, write_message(tmp_path / "1.eml"))
    assert result.returncode == 2
    assert "body_max_zi" in result.stderr
    assert "Traceback" not in result.stderr
