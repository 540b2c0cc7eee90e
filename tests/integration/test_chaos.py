"""`mailgate run` killed with SIGKILL again and again during a 500-message run: exactly once all the same."""

from __future__ import annotations

import collections
import random
import time
from pathlib import Path

import pytest
from servers import Dovecot, SmtpSink

from integration._daemon import Child, answered, fresh, parsed, settings_data

SEED = 20261127
COUNT = 500
LATE = 100  # of COUNT, delivered while the daemon runs, after the second kill
KILLS = 6
#: Longest the whole run may take before the test fails (it takes well under a minute).
DEADLINE = 120.0
OFFICERS = (
    ("xxy@th.gz.gov.cn", "天河区政府办 张三", "天河区"),
    ("xxk@yuexiu.gov.cn", "越秀区政府办 李四", "越秀区"),
)


def mail(n: int) -> tuple[str, bytes]:
    """Message ``n`` and the inbox it goes to: most are valid, some rejected, some auto-replies."""
    sender, name, unit = OFFICERS[n % len(OFFICERS)]
    title = f"{unit}第{n}号信息：推进智慧城市建设"
    if n % 10 == 0:  # a daily item sent to the commissioned inbox: wrong-inbox
        return "commissioned", fresh(n, title=title, sender=sender, name=name, identifier=unit)
    if n % 7 == 3:
        headers = {"Auto-Submitted": "auto-replied"}
        return "daily", fresh(n, title=title, sender=sender, name=name, identifier=unit, headers=headers)
    other = OFFICERS[(n + 1) % len(OFFICERS)][2] if n % 5 == 1 else unit  # someone else's identifier
    return "daily", fresh(n, title=title, sender=sender, name=name, identifier=other)


def deliver(dovecot: Dovecot, numbers: range) -> None:
    by_inbox: dict[str, list[bytes]] = collections.defaultdict(list)
    for n in numbers:
        inbox, raw = mail(n)
        by_inbox[inbox].append(raw)
    for inbox, raws in by_inbox.items():
        dovecot.drop_into_maildir(inbox, "INBOX", raws)


def drained(child: Child, dovecot: Dovecot) -> bool:
    """Every message has a verdict, every reply has been tried, and both INBOXes are empty."""
    if child.progress() != (COUNT, 0):
        return False
    return not any(dovecot.mailbox_uids(user, "INBOX") for user in ("daily", "commissioned"))


@pytest.mark.slow
def test_sigkill_at_random_points_loses_nothing_and_answers_nothing_twice(
    dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    started = time.monotonic()
    deliver(dovecot, range(1, COUNT - LATE + 1))
    data = settings_data(dovecot, smtp_sink, tmp_path, log_level="warning", source={"imap": {"batch": 25}})
    child = Child(data, tmp_path)
    at_kill: list[int] = []
    for kill in range(KILLS):
        child.start()
        if kill == 0:  # somewhere in start-up: migrations, registry import, login
            assert child.alive_after(rng.uniform(0.2, 2.0)), child.logs()
        else:  # under way, a random number of verdicts on: within a batch, before filing, mid-send
            target = min(COUNT, child.progress()[0] + rng.randint(1, 80))
            while child.progress()[0] < target:  # no event crosses the process boundary: look every 0.1 s
                assert child.alive_after(0.1), child.logs()
                assert time.monotonic() - started < DEADLINE, child.logs()
            assert child.alive_after(rng.uniform(0.0, 0.5)), child.logs()
        child.kill()
        at_kill.append(child.progress()[0])
        if kill == 1:
            deliver(dovecot, range(COUNT - LATE + 1, COUNT + 1))
    child.start()
    while not drained(child, dovecot):
        assert child.alive_after(0.1), child.logs()
        assert time.monotonic() - started < DEADLINE, f"progress at each kill: {at_kill}\n{child.logs()}"
    assert child.terminate(timeout=10) == 0, child.logs()
    assert any(0 < done < COUNT for done in at_kill), at_kill  # the kills did land mid-run

    # One verdict per message, none lost.
    verdicts = child.query("SELECT message_id, count(*), min(verdict) FROM messages GROUP BY message_id")
    ids = {f"{n}.test@th.gz.gov.cn" for n in range(1, COUNT + 1)}
    assert {row[0] for row in verdicts} == ids
    assert {row[1] for row in verdicts} == {1}
    expected_ignored = {f"{n}.test@th.gz.gov.cn" for n in range(1, COUNT + 1) if n % 7 == 3 and n % 10}
    assert {row[0] for row in verdicts if row[2] == "ignored"} == expected_ignored
    # Each answered message has one reply on file, each ignored one none; none left to send.
    per_message = child.query(
        "SELECT m.message_id, m.verdict, count(o.id) FROM messages m"
        " LEFT JOIN outbox o ON o.message_pk = m.id GROUP BY m.id"
    )
    assert {(verdict == "ignored", replies) for _, verdict, replies in per_message} == {(True, 0), (False, 1)}
    statuses = dict(child.query("SELECT status, count(*) FROM outbox GROUP BY status"))
    assert set(statuses) <= {"sent", "unknown"}, statuses
    # At most one reply per message at the server: every one marked sent, and maybe those cut off mid-send.
    replies = answered(smtp_sink)
    assert set(replies) <= ids - expected_ignored
    assert set(replies.values()) == {1}
    sent = {row[0] for row in child.query("SELECT reply_message_id FROM outbox WHERE status = 'sent'")}
    received = {str(parsed(m)["Message-ID"]).strip("<>") for m in smtp_sink.messages}
    assert sent <= received
    assert len(received) <= statuses.get("sent", 0) + statuses.get("unknown", 0)
    # Every message was filed by its verdict; nothing was quarantined.
    filed = sum(
        len(dovecot.mailbox_uids(user, folder))
        for user in ("daily", "commissioned")
        for folder in ("Processed", "Rejected", "Ignored")
    )
    assert filed == COUNT
    assert child.query("SELECT count(*) FROM failures") == [(0,)]
