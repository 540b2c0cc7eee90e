"""The desk's commands as ops and editors run them, on a store filled by `mailgate run --once`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from messages import REGISTRY, stamp, submission

#: The registry before 天河区's officer was registered: their item is rejected as unregistered-sender.
WITHOUT_OFFICER = REGISTRY.replace('email = "xxy@th.gz.gov.cn"', 'email = "old@th.gz.gov.cn"')
YUEXIU = {"identifier": "越秀区", "sender": "xxk@yuexiu.gov.cn", "name": "越秀区政府办 李四"}
ZONE_NOTE = "时间均为北京时间（Asia/Shanghai）"


def mailgate(cwd: Path, *args: str | Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILGATE_")}
    env["COLUMNS"] = "250"  # wide enough that no table cell is cut
    return subprocess.run(
        [sys.executable, "-m", "mailgate", *map(str, args)],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def mailgate_all(cwd: Path, *commands: tuple[str, ...]) -> list[subprocess.CompletedProcess[str]]:
    """Run read-only commands side by side (each start-up takes a while)."""
    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(lambda args: mailgate(cwd, *args), commands))


def _html_with_script(now: dt.datetime) -> bytes:
    """An HTML message from a stranger that arrived at ``now`` (Received), written two minutes before."""
    message = EmailMessage()
    message["Received"] = f"from mail.example.com by mx.gzy.gov.cn with ESMTP id html; {stamp(now)}"
    message["From"] = "陌生人 <stranger@example.com>"
    message["To"] = "inf@gzy.gov.cn"
    message["Subject"] = "【天河区】一条网页格式的信息"
    message["Date"] = stamp(now - dt.timedelta(minutes=2))
    message["Message-ID"] = "<html.test@example.com>"
    message.set_content("纯文本部分", charset="utf-8")
    message.add_alternative("<p>网页部分</p><script>alert('x')</script>", subtype="html", charset="utf-8")
    return message.as_bytes()


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store after one run: two items of 越秀区, one rejected 天河区 item, one HTML rejection, one
    auto-reply ignored."""
    root = tmp_path_factory.mktemp("desk")
    (root / "registry.toml").write_text(WITHOUT_OFFICER, encoding="utf-8")
    (root / "full.toml").write_text(REGISTRY, encoding="utf-8")
    assert mailgate(root, "registry", "import", "registry.toml").returncode == 0
    inbox = root / "var" / "mail" / "daily" / "new"
    inbox.mkdir(parents=True)
    # The commands run on the machine's clock: the mail is dated by it, 天河区's too long ago to answer.
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    (root / "arrived").write_text(now.isoformat(), encoding="utf-8")
    (inbox / "1.eml").write_bytes(submission(1, at=now - dt.timedelta(hours=80)))
    (inbox / "2.eml").write_bytes(
        submission(2, title="越秀区老城区改造取得新成效", markers="【紧急】", at=now, **YUEXIU)
    )
    (inbox / "3.eml").write_bytes(submission(3, title="越秀区举办迎春花市", at=now, **YUEXIU))
    (inbox / "4.eml").write_bytes(submission(4, headers={"Auto-Submitted": "auto-replied"}, at=now))
    (inbox / "5.eml").write_bytes(_html_with_script(now))
    ran = mailgate(root, "run", "--once")
    assert ran.returncode == 0, ran.stderr
    return root


@pytest.fixture
def workdir(filled: Path, tmp_path: Path) -> Path:
    """A copy of the filled store for one test to change."""
    shutil.copytree(filled, tmp_path, dirs_exist_ok=True)
    return tmp_path


def _ref(listing: str, subject: str) -> str:
    line = next(line for line in listing.splitlines() if subject in line)
    found = re.search(r"(message|failure):\d+", line)
    assert found is not None, line
    return found.group(0)


def test_the_queue_lists_filters_and_shows_items(workdir: Path) -> None:
    listed, searched, missing, huge = mailgate_all(
        workdir,
        ("queue", "list", "--unit", "越秀区"),
        ("queue", "list", "--search", "迎春花市", "--status", "new"),
        ("queue", "show", "20991231-999999"),
        ("queue", "show", str(2**64)),
    )
    assert listed.returncode == 0, listed.stderr
    lines = [line for line in listed.stdout.splitlines() if "越秀区" in line and "-0000" in line]
    assert len(lines) == 2
    assert "老城区改造" in lines[0]  # urgent first
    assert "急" in lines[0]
    assert "共 2 条" in listed.stdout
    assert listed.stdout.count(ZONE_NOTE) == 1
    # When each arrived (in Guangzhou), and when it was processed, later.
    shown = re.search(r"(\d{4}-\d\d-\d\d \d\d:\d\d)（处理 (\d{4}-\d\d-\d\d \d\d:\d\d)）", lines[0])
    assert shown is not None, lines[0]
    arrived, processed = (dt.datetime.fromisoformat(t) for t in shown.groups())
    assert dt.timedelta(minutes=5) <= processed - arrived <= dt.timedelta(minutes=6)
    assert "共 1 条" in searched.stdout
    assert "迎春花市" in searched.stdout
    assert missing.returncode == 1
    assert "no item" in missing.stderr
    assert (huge.returncode, huge.stderr.strip()) == (1, f"mailgate: no item {2**64}")
    tracking = re.search(r"(\d{8})-(\d{6})", lines[1])
    assert tracking is not None
    short = f"{tracking.group(1)}-{int(tracking.group(2))}"  # the serial without its zeros
    shown, found = mailgate_all(workdir, ("queue", "show", short), ("queue", "list", "--search", short))
    assert shown.returncode == 0, shown.stderr
    assert "越秀区举办迎春花市" in shown.stdout
    assert "新建5G基站1200个" in shown.stdout
    assert "020-38622000" in shown.stdout  # the 落款
    assert "信息员 李四 · 落款 张三" in shown.stdout  # the body 越秀区 sent is signed by 天河区's 张三
    assert shown.stdout.count(ZONE_NOTE) == 1
    assert re.search(r"收到 \d{4}-\d\d-\d\d \d\d:\d\d（处理", shown.stdout)
    assert found.returncode == 0, found.stderr
    assert "共 1 条" in found.stdout
    assert tracking.group(0) in found.stdout


def test_the_queue_exports_every_page_as_csv_with_a_bom(workdir: Path) -> None:
    exported = mailgate(workdir, "queue", "export", "--output", "items.csv", "--page-size", "1")
    assert exported.returncode == 0, exported.stderr
    assert "2 items" in exported.stdout
    data = (workdir / "items.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "标题", "单位"]
    assert sorted(r[1] for r in rows[1:]) == ["越秀区举办迎春花市", "越秀区老城区改造取得新成效"]
    assert {r[2] for r in rows[1:]} == {"越秀区"}
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert {(r["信息员"], r["落款姓名"]) for r in records} == {("李四", "张三")}
    arrived = dt.datetime.fromisoformat((workdir / "arrived").read_text(encoding="utf-8"))
    local = f"{arrived.astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M}"
    assert {r["首次收到（Asia/Shanghai）"] for r in records} == {local}
    assert {r["最近收到（Asia/Shanghai）"] for r in records} == {local}
    assert all(r["处理时间（Asia/Shanghai）"] > local for r in records)  # the run was later


def test_the_rejection_log_lists_shows_and_counts(workdir: Path) -> None:
    listed, only, stats, malformed, huge, ancient, endless, cursor = mailgate_all(
        workdir,
        ("rejections", "list"),
        ("rejections", "list", "--rule", "auto-reply"),
        ("rejections", "stats", "--since", f"{dt.date.today() - dt.timedelta(days=30)}"),
        ("rejections", "show", "item:1"),
        ("rejections", "show", f"message:{2**64}"),
        ("rejections", "list", "--since", "0001-01-01"),
        ("rejections", "stats", "--until", "9999-12-31"),
        ("rejections", "list", "--cursor", "W10"),
    )
    assert listed.returncode == 0, listed.stderr
    assert "unregistered-sender" in listed.stdout
    assert "auto-reply" in listed.stdout
    assert "auto-reply" in only.stdout
    assert "unregistered-sender" not in only.stdout
    assert stats.returncode == 0, stats.stderr
    assert re.search(r"unregistered-sender\s*│\s*2", stats.stdout)
    assert re.search(r"auto-reply\s*│\s*1", stats.stdout)
    assert malformed.returncode == 2
    assert listed.stdout.count(ZONE_NOTE) == 1
    for refused, says in ((huge, "out of range"), (ancient, "out of range"), (endless, "out of range")):
        assert refused.returncode == 2, refused.stderr
        assert says in refused.stderr
        assert "Traceback" not in refused.stderr
    assert (cursor.returncode, cursor.stderr.strip()) == (2, "mailgate: not a cursor of this list")
    html = mailgate(workdir, "rejections", "show", _ref(listed.stdout, "网页格式"))
    assert html.returncode == 0, html.stderr
    assert "纯文本部分" in html.stdout
    assert "<script" not in html.stdout
    assert "<p>" not in html.stdout
    assert "不是已登记备案的信息员邮箱" in html.stdout  # the finding, in Chinese
    assert "stranger@example.com" in html.stdout
    assert html.stdout.count(ZONE_NOTE) == 1
    # 天河区's officer, not yet registered, was a stranger to it, and wrote too long ago to be answered.
    line = next(line for line in listed.stdout.splitlines() if "智慧城市" in line and "unregistered" in line)
    old = mailgate(workdir, "rejections", "show", _ref(line, "智慧城市"))
    assert old.returncode == 0, old.stderr
    assert (
        "登记提示 → xxy@th.gz.gov.cn：不发送（原因：邮件收到时已超过自动回复的时限，不再回复）" in old.stdout
    )


def test_replay_previews_then_applies_once_after_a_registry_change(workdir: Path) -> None:
    nothing, unknown, imported = mailgate_all(
        workdir, ("replay",), ("replay", "message:999"), ("registry", "import", "full.toml")
    )
    assert nothing.returncode == 2  # neither references nor filters
    assert unknown.returncode == 1
    assert "no message 999" in unknown.stderr
    assert imported.returncode == 0
    previewed = mailgate(workdir, "replay", "--rule", "unregistered-sender")
    assert previewed.returncode == 0, previewed.stderr
    ref = _ref(previewed.stdout, "智慧城市")
    assert re.search(r"退稿\s*│\s*受理", previewed.stdout)
    assert "回执" in previewed.stdout
    assert "共 2 封，1 封可应用" in previewed.stdout  # the stranger stays rejected

    declined = mailgate(workdir, "replay", ref, "--apply", "--send-replies", stdin="n\n")
    assert declined.returncode == 1
    applied = mailgate(workdir, "replay", ref, "--apply", "--send-replies", "--yes", "--user", "ops1")
    assert applied.returncode == 0, applied.stderr
    assert re.search(r"退稿\s*│\s*受理", applied.stdout)  # declining changed nothing
    assert "已应用 1 封" in applied.stdout
    tracking = re.search(r"编号 (\d{8}-\d{6})", applied.stdout)
    assert tracking is not None

    before = set((workdir / "var" / "outbox").iterdir())
    again, queue, ran = mailgate_all(
        workdir, ("replay", ref, "--apply", "--yes"), ("queue", "list"), ("run", "--once")
    )
    assert again.returncode == 0
    assert "没有需要应用的变化" in again.stdout
    assert "已受理的邮件只能预览" in again.stdout
    assert "共 3 条" in queue.stdout
    assert tracking.group(1) in queue.stdout
    assert ran.returncode == 0, ran.stderr
    sent = [p.read_bytes() for p in set((workdir / "var" / "outbox").iterdir()) - before]
    assert len(sent) == 1  # the receipt, once
    assert tracking.group(1).encode() in sent[0]


def test_user_commands_change_roles_and_reactivate_but_always_keep_an_active_admin(tmp_path: Path) -> None:
    (tmp_path / "mailgate.toml").write_text('[rules]\ntimezone = "Pacific/Kiritimati"\n', encoding="utf-8")
    config = ("--config", "mailgate.toml")
    for name, role in (("Wang", "admin"), ("li", "editor")):
        added = mailgate(
            tmp_path, "user", "add", name, "--role", role, "--password-stdin", *config, stdin="x" * 12
        )
        assert added.returncode == 0, added.stderr
    demoted, deactivated, unknown_role = mailgate_all(
        tmp_path,
        ("user", "role", "WANG", "editor", *config),
        ("user", "deactivate", " wang ", *config),
        ("user", "role", "li", "boss", *config),
    )
    for refused in (demoted, deactivated):
        assert refused.returncode == 1, refused.stderr
        line = refused.stderr.strip()
        assert "\n" not in line
        assert "without an active admin" in line
        assert "没有启用的管理员" in line
        assert "Traceback" not in refused.stderr
    assert unknown_role.returncode == 2
    assert "角色须为" in unknown_role.stderr
    promoted = mailgate(tmp_path, "user", "role", "LI", "admin", *config)
    assert promoted.returncode == 0, promoted.stderr
    assert "user li is now admin" in promoted.stdout
    gone = mailgate(tmp_path, "user", "deactivate", "wang", *config)
    assert gone.returncode == 0, gone.stderr
    listed = mailgate(tmp_path, "user", "list", *config)
    assert re.search(r"wang\s*│.*│\s*已停用", listed.stdout)
    back = mailgate(tmp_path, "user", "reactivate", "Wang", *config)
    assert back.returncode == 0, back.stderr
    assert "user wang reactivated" in back.stdout
    listed = mailgate(tmp_path, "user", "list", *config)
    assert "时间：Pacific/Kiritimati" in listed.stdout
    assert "已停用" not in listed.stdout
    created = re.search(r"wang\s*│.*?│\s*(\d{4}-\d{2}-\d{2} \d{2}:\d{2})", listed.stdout)
    assert created is not None, listed.stdout
    local = dt.datetime.strptime(created.group(1), "%Y-%m-%d %H:%M").replace(
        tzinfo=ZoneInfo("Pacific/Kiritimati")
    )
    assert abs(dt.datetime.now(dt.UTC) - local) < dt.timedelta(minutes=5)  # UTC+14: never the UTC time
