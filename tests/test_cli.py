"""The `mailgate check` contract: JSON lines, ordering, exit codes, the registry used, no tracebacks;
and `mailgate health` reading the configured store without making one."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from messages import BODY as MESSAGE_BODY
from messages import REGISTRY, TITLE

from mailgate.store import Store
from mailgate.store.state import Heartbeats

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


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`mailgate ARGS` in ``cwd`` with no MAILGATE_ variables: only the files a test gives are used."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILGATE_")}
    return subprocess.run(
        [sys.executable, "-m", "mailgate", *map(str, args)],
        cwd=cwd,
        env=env,
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
    result = run("check", "--json", "--registry", registry, first, revised, first, cwd=tmp_path)
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
        "check",
        "--json",
        "--registry",
        registry,
        "--received-at",
        "2026-11-26T10:00:00+08:00",
        path,
        cwd=tmp_path,
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


def test_garbage_files_still_get_a_verdict(tmp_path: Path, registry: Path) -> None:
    garbage = tmp_path / "garbage.eml"
    garbage.write_bytes(b"\x00\xff" * 1000)
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    result = run("check", "--json", "--registry", registry, garbage, empty, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(garbage), str(empty)]
    assert lines[0]["verdict"] == "rejected"
    assert lines[1]["verdict"] == "rejected"


@pytest.mark.parametrize(("name", "reason"), [("missing.eml", "no such file"), ("folder", "is a directory")])
def test_a_file_that_is_not_there_is_a_usage_error(
    tmp_path: Path, registry: Path, name: str, reason: str
) -> None:
    (tmp_path / "folder").mkdir()
    good = write_message(tmp_path / "1.eml")
    result = run("check", "--json", "--registry", registry, good, tmp_path / name, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""  # nothing is checked
    assert result.stderr.strip() == f"mailgate: {tmp_path / name}: {reason}"


def test_readable_report_in_chinese(tmp_path: Path, registry: Path) -> None:
    path = write_message(tmp_path / "1.eml")
    result = run("check", "--registry", registry, path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "受理" in result.stdout
    assert "编号" in result.stdout
    bad = write_message(tmp_path / "2.eml", subject="【越秀区】别的标题")
    result = run("check", "--registry", registry, bad, cwd=tmp_path)
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
def test_bad_usage_exits_2(args: list[str], tmp_path: Path) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_bad_config_exits_2_with_the_reason(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[rules]\nbody_max_zi = 0\n", encoding="utf-8")
    result = run("check", "--config", config, write_message(tmp_path / "1.eml"), cwd=tmp_path)
    assert result.returncode == 2
    assert "body_max_zi" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_a_registry_it_says_so_once_and_judges_no_sender(tmp_path: Path) -> None:
    stranger = write_message(tmp_path / "1.eml")
    again = write_message(tmp_path / "2.eml", message_id="<a2@th.gz.gov.cn>", subject="【天河区】另一条信息")
    result = run("check", "--json", stranger, again, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "registry" in line]
    assert len(notes) == 1, result.stderr
    assert notes[0].startswith("no registry (store sqlite+aiosqlite:///var/mailgate.db does not exist)")
    assert "senders are not checked" in notes[0]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["registry"] for line in lines] == [None, None]
    # Judged on everything but the registry: a good item is accepted, its unit taken from the subject.
    assert lines[0]["verdict"] == "accepted", lines[0]["findings"]
    assert lines[0]["item"]["unit"] == "天河区"
    rules = {f["rule"] for line in lines for f in line["findings"]}
    assert rules.isdisjoint({"unregistered-sender", "sender-name", "identifier"})
    assert not (tmp_path / "var").exists()  # the store that is not there was not made


def _config(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mailgate.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_without_a_store_the_configured_registry_file_is_used(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "units.toml").write_text(REGISTRY, encoding="utf-8")
    config = _config(tmp_path / "etc", 'registry_file = "units.toml"\n')
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    result = run("check", "--json", "--config", config, write_message(tmp_path / "1.eml"), cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    path = (tmp_path / "etc" / "units.toml").resolve()
    assert f"registry: file {path} (2 units, 2 officers)" in result.stderr.splitlines()
    line = json.loads(result.stdout)
    assert line["registry"] == {"from": "file", "at": str(path), "units": 2, "officers": 2}
    assert line["item"]["officer"] == "张三"


def test_the_registry_in_the_configured_store_is_used(
    tmp_path: Path, registry: Path, database_url: str
) -> None:
    config = _config(tmp_path / "etc", f'[store]\nurl = "{database_url}"\n')
    assert run("db", "upgrade", "--config", config, cwd=tmp_path).returncode == 0
    imported = run("registry", "import", registry, "--config", config, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    stranger = write_message(tmp_path / "1.eml")
    result = run("check", "--json", "--config", config, stranger, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    shown = database_url  # the test URLs have no password to hide
    assert f"registry: store {shown} (2 units, 2 officers)" in result.stderr.splitlines()
    line = json.loads(result.stdout)
    assert line["registry"] == {"from": "store", "at": shown, "units": 2, "officers": 2}
    assert line["item"]["officer"] == "张三"
    outsider = write_message(tmp_path / "2.eml", message_id="<o@x.cn>")
    text = outsider.read_bytes().replace(b"xxy@th.gz.gov.cn", b"someone@163.com")
    outsider.write_bytes(text)
    result = run("check", "--json", "--config", config, outsider, cwd=tmp_path)
    assert "unregistered-sender" in {f["rule"] for f in json.loads(result.stdout)["findings"]}


def test_a_store_without_units_or_tables_is_no_registry(tmp_path: Path) -> None:
    config = _config(tmp_path / "etc", '[store]\nurl = "sqlite+aiosqlite:///mailgate.db"\n')
    (tmp_path / "etc" / "mailgate.db").write_bytes(b"")  # an empty file, as old versions left behind
    message = write_message(tmp_path / "1.eml")
    result = run("check", "--config", config, message, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "is not migrated): senders are not checked" in result.stderr
    assert run("db", "upgrade", "--config", config, cwd=tmp_path).returncode == 0
    result = run("check", "--config", config, message, cwd=tmp_path)
    assert "holds none (mailgate registry import)): senders are not checked" in result.stderr


def test_a_store_that_cannot_be_read_exits_1_in_one_line(tmp_path: Path) -> None:
    config = _config(
        tmp_path / "etc", '[store]\nurl = "postgresql+asyncpg://mailgate@127.0.0.1:1/mailgate"\n'
    )
    result = run("check", "--config", config, write_message(tmp_path / "1.eml"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("mailgate: cannot read the registry in the store postgresql+asyncpg://")


def test_a_bad_registry_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "units.toml"
    bad.write_text("[[units]]\nid = 1\n", encoding="utf-8")
    result = run("check", "--registry", bad, write_message(tmp_path / "1.eml"), cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(bad) in result.stderr


def test_health_reads_the_store_next_to_its_config_from_any_folder(tmp_path: Path) -> None:
    config = _config(tmp_path / "etc", '[store]\nurl = "sqlite+aiosqlite:///var/mailgate.db"\n')
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    upgraded = run("db", "upgrade", "--config", config, cwd=elsewhere)
    assert upgraded.returncode == 0, upgraded.stderr
    database = tmp_path / "etc" / "var" / "mailgate.db"
    assert database.is_file()
    assert not (elsewhere / "var").exists()

    async def beat() -> None:
        store = Store(f"sqlite+aiosqlite:///{database}")
        try:
            heartbeats = Heartbeats(store)
            for component in ("inbox:daily", "inbox:commissioned", "outbox"):
                await heartbeats.beat(component, connected=True)
        finally:
            await store.close()

    asyncio.run(beat())
    health = run("health", "--config", config, cwd=elsewhere)
    assert health.returncode == 0, health.stdout + health.stderr
    assert "inbox:daily: ok" in health.stdout
    assert not (elsewhere / "var").exists()  # no second, empty store


def test_health_without_a_store_does_not_make_one(tmp_path: Path) -> None:
    result = run("health", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "unhealthy: no store at var/mailgate.db"
    assert not (tmp_path / "var").exists()


def test_an_unknown_time_zone_is_refused_by_check(tmp_path: Path) -> None:
    config = _config(tmp_path, "[rules]\ntimezone = 'Asia/Guangzhou'\n")
    result = run("check", "--config", config, write_message(tmp_path / "1.eml"), cwd=tmp_path)
    assert result.returncode == 2
    assert "rules.timezone: unknown time zone 'Asia/Guangzhou'" in result.stderr
    assert "Traceback" not in result.stderr
