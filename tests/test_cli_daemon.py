"""The daemon's commands as an operator runs them: db upgrade, registry, commission, run --once, health."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from messages import REGISTRY, submission


def mailgate(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
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
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "registry.toml").write_text(REGISTRY, encoding="utf-8")
    return tmp_path


def test_the_embedded_default_runs_once_from_an_empty_directory(workdir: Path) -> None:
    assert mailgate(workdir, "db", "upgrade").returncode == 0
    assert (workdir / "var" / "mailgate.db").exists()
    imported = mailgate(workdir, "registry", "import", "registry.toml")
    assert imported.returncode == 0, imported.stderr
    assert "2 units" in imported.stdout
    inbox = workdir / "var" / "mail" / "daily" / "new"
    inbox.mkdir(parents=True)
    # The command runs on the machine's clock: the mail arrived a minute ago by that clock.
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    (inbox / "1.eml").write_bytes(submission(1, at=now))
    (inbox / "2.eml").write_bytes(submission(2, title="越秀区的信息", identifier="越秀区", at=now))
    ran = mailgate(workdir, "run", "--once")
    assert ran.returncode == 0, ran.stderr
    assert '"event": "message_processed"' in ran.stderr
    assert sorted(p.name for p in (workdir / "var" / "outbox").iterdir()) == ["00000001.eml", "00000002.eml"]
    assert list(inbox.iterdir()) == []
    health = mailgate(workdir, "health")
    assert health.returncode == 0, health.stdout
    assert "inbox:daily: ok" in health.stdout


def test_health_fails_before_the_daemon_ever_ran(workdir: Path) -> None:
    mailgate(workdir, "db", "upgrade")
    result = mailgate(workdir, "health")
    assert result.returncode == 1
    assert "MISSING" in result.stdout


def test_registry_round_trip_through_the_database(workdir: Path) -> None:
    assert mailgate(workdir, "registry", "import", "registry.toml").returncode == 0
    exported = mailgate(workdir, "registry", "export")
    assert exported.returncode == 0
    (workdir / "again.toml").write_text(exported.stdout, encoding="utf-8")
    again = mailgate(workdir, "registry", "import", "again.toml")
    assert again.returncode == 0
    assert mailgate(workdir, "registry", "export").stdout == exported.stdout
    assert 'email = "xxy@th.gz.gov.cn"' in exported.stdout


def test_an_invalid_registry_is_refused_and_the_old_one_kept(workdir: Path) -> None:
    assert mailgate(workdir, "registry", "import", "registry.toml").returncode == 0
    (workdir / "bad.toml").write_text('[[officers]]\nemail = "a@b.cn"\nname = "x"\nunit = "none"\n', "utf-8")
    refused = mailgate(workdir, "registry", "import", "bad.toml")
    assert refused.returncode == 2
    assert "unknown unit" in refused.stderr
    assert "天河区" in mailgate(workdir, "registry", "export").stdout


def test_commissions_are_added_once(workdir: Path) -> None:
    added = mailgate(
        workdir, "commission", "add", "GZ2026-12", "--topic", "冬季安全生产", "--deadline", "2026-12-10"
    )
    assert added.returncode == 0, added.stderr
    assert "2026-12-10T23:59:59+08:00" in added.stdout
    again = mailgate(workdir, "commission", "add", "GZ2026-12", "--topic", "x", "--deadline", "2026-12-11")
    assert again.returncode == 2
    assert again.stderr == "mailgate: commission 'GZ2026-12' already exists\n"
    bad = mailgate(workdir, "commission", "add", "X", "--topic", "x", "--deadline", "soon")
    assert bad.returncode == 2
    assert bad.stderr == "mailgate: the deadline 'soon' is not an ISO 8601 date or date-time\n"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("X", "--topic", "x", "--deadline", "0001-01-01T00:00"), "the deadline is not within the years"),
        (
            ("X", "--topic", "x", "--deadline", "9999-12-31T23:59-12:00"),
            "the deadline is not within the years",
        ),
        (
            ("X", "--topic", "年终\x1b[2J总结", "--deadline", "2026-12-10"),
            "the topic contains a control character",
        ),
        (("X\x07", "--topic", "x", "--deadline", "2026-12-10"), "the code contains a control character"),
    ],
)
def test_a_commission_no_database_can_hold_is_refused_in_one_line(
    workdir: Path, args: tuple[str, ...], said: str
) -> None:
    refused = mailgate(workdir, "commission", "add", *args)
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"mailgate: {said}")
    assert refused.stderr.count("\n") == 1
    assert "Traceback" not in refused.stderr


def test_a_missing_password_file_stops_the_daemon_at_start(workdir: Path) -> None:
    config = workdir / "mailgate.toml"
    config.write_text(
        '[transport]\nkind = "smtp"\n[transport.smtp]\npassword_file = "/nonexistent/secret"\n', "utf-8"
    )
    result = mailgate(workdir, "run", "--once", "--config", config)
    assert result.returncode == 1
    assert "password file" in result.stderr
    assert "Traceback" not in result.stderr
