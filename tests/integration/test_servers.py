"""The test servers work with the client libraries the daemon uses: aioimaplib and aiosmtplib."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aioimaplib
import aiosmtplib
import pytest
from servers import FOLDERS, Dovecot, SmtpSink, scratch_dir

RAW = (
    "From: 天河区政府办 <thxx@example.gov.cn>\r\n"
    "To: daily@example.gov.cn\r\n"
    "Subject: =?utf-8?b?44CQ5aSp5rKz44CR5rWL6K+V?=\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "天河区软件产业园区建设成效明显\r\n"
    ".a line that starts with a dot\r\n"
    ".\r\n"
    "作者单位：天河区人民政府办公室\r\n"
).encode()


def _message(n: int) -> bytes:
    return f"Subject: message {n}\r\nMessage-ID: <{n}@test>\r\n\r\nbody {n}\r\n".encode()


async def _imap(server: Dovecot, user: str = "daily", **kwargs: object) -> aioimaplib.IMAP4:
    client = aioimaplib.IMAP4(host=server.host, port=server.port, timeout=3, **kwargs)
    await client.wait_hello_from_server()
    response = await client.login(user, server.users[user])
    assert response.result == "OK"
    return client


@pytest.fixture
async def inbox(dovecot: Dovecot) -> AsyncIterator[aioimaplib.IMAP4]:
    """An aioimaplib client logged in as "daily" with INBOX selected."""
    client = await _imap(dovecot)
    assert (await client.select("INBOX")).result == "OK"
    yield client
    client.protocol.transport.close()


async def _push_containing(client: aioimaplib.IMAP4, wanted: bytes) -> list[bytes]:
    """The first IDLE push with a line containing ``wanted``; Dovecot pushes about 0.5 s after a change."""
    async with asyncio.timeout(3):
        while True:
            pushed: list[bytes] = await client.wait_server_push()
            if any(wanted in line for line in pushed):
                return pushed


def _uidvalidity(select: aioimaplib.Response) -> int:
    match = re.search(rb"UIDVALIDITY (\d+)", b"\n".join(select.lines))
    assert match is not None
    return int(match.group(1))


async def test_append_then_uid_fetch_returns_the_same_bytes(inbox: aioimaplib.IMAP4) -> None:
    appended = await inbox.append(RAW, mailbox="INBOX")
    assert appended.result == "OK"
    uid = re.search(rb"APPENDUID \d+ (\d+)", b"\n".join(appended.lines))
    assert uid is not None

    fetched = await inbox.uid("fetch", uid.group(1).decode(), "(FLAGS BODY.PEEK[])")

    assert fetched.result == "OK"
    assert bytes(fetched.lines[1]) == RAW
    assert b"\\Seen" not in fetched.lines[0]


async def test_wrong_passwords_are_refused_without_growing_delays(dovecot: Dovecot) -> None:
    for _ in range(2):
        client = aioimaplib.IMAP4(host=dovecot.host, port=dovecot.port, timeout=3)
        await client.wait_hello_from_server()

        assert (await asyncio.wait_for(client.login("daily", "wrong"), 1)).result == "NO"


async def test_idle_is_told_of_a_message_appended_by_another_connection(
    dovecot: Dovecot, inbox: aioimaplib.IMAP4
) -> None:
    idle = await inbox.idle_start(timeout=10)
    await asyncio.to_thread(dovecot.append, "daily", "INBOX", _message(1))

    pushed = await _push_containing(inbox, b"EXISTS")

    assert b"1 EXISTS" in pushed
    inbox.idle_done()
    assert (await asyncio.wait_for(idle, 3)).result == "OK"


async def test_mailboxes_are_separate_per_user_and_folder(dovecot: Dovecot) -> None:
    for folder in FOLDERS:
        dovecot.create_mailbox("commissioned", folder)
    assert dovecot.append("commissioned", "Rejected", _message(1), _message(2)) == [1, 2]
    client = await _imap(dovecot, "commissioned")

    listed = await client.list('""', "*")

    names = {line.rsplit(b" ", 1)[-1].strip(b'"').decode() for line in listed.lines[:-1]}
    assert names == {"INBOX", *FOLDERS}
    assert dovecot.mailbox_uids("commissioned", "Rejected") == [1, 2]
    assert dovecot.mailbox_uids("commissioned", "INBOX") == []
    assert dovecot.mailbox_uids("daily", "INBOX") == []


async def test_messages_dropped_into_the_maildir_get_uids_in_order(dovecot: Dovecot) -> None:
    count = dovecot.drop_into_maildir("daily", "Quarantine", (_message(n) for n in range(1, 1001)))
    client = await _imap(dovecot)
    assert (await client.select("Quarantine")).result == "OK"

    first = await client.uid("fetch", "1", "BODY.PEEK[]")
    last = await client.uid("fetch", "1000", "BODY.PEEK[]")

    assert count == 1000
    assert dovecot.mailbox_uids("daily", "Quarantine") == list(range(1, 1001))
    assert bytes(first.lines[1]) == _message(1)
    assert bytes(last.lines[1]) == _message(1000)


def test_messages_dropped_while_the_server_is_down_are_there_after_start(dovecot: Dovecot) -> None:
    dovecot.stop()
    dovecot.drop_into_maildir("commissioned", "INBOX", [_message(1), _message(2)])
    dovecot.start()

    assert dovecot.mailbox_uids("commissioned", "INBOX") == [1, 2]


@pytest.mark.parametrize("crash", [False, True], ids=["restart", "kill-and-start"])
async def test_a_restart_keeps_port_and_mail_and_drops_connected_clients(
    dovecot: Dovecot, crash: bool
) -> None:
    uids = dovecot.append("daily", "INBOX", _message(1), _message(2))
    port = dovecot.port
    lost: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
    client = await _imap(dovecot, conn_lost_cb=lost.set_result)

    if crash:
        dovecot.kill()
        dovecot.start()
    else:
        dovecot.restart()

    await asyncio.wait_for(lost, 3)
    assert dovecot.port == port
    assert dovecot.mailbox_uids("daily", "INBOX") == uids
    client = await _imap(dovecot)
    assert (await client.select("INBOX")).result == "OK"
    fetched = await client.uid("fetch", f"{uids[1]}", "BODY.PEEK[]")
    assert bytes(fetched.lines[1]) == _message(2)


async def test_a_uidvalidity_change_shows_in_the_next_select(dovecot: Dovecot) -> None:
    uids = dovecot.append("daily", "INBOX", _message(1), _message(2))
    client = await _imap(dovecot)
    before = _uidvalidity(await client.select("INBOX"))
    assert (await client.logout()).result == "OK"

    after = dovecot.set_uidvalidity("daily", "INBOX")

    assert after == before + 1
    assert dovecot.uidvalidity("daily", "INBOX") == after
    assert dovecot.mailbox_uids("daily", "INBOX") == uids
    client = await _imap(dovecot)
    assert _uidvalidity(await client.select("INBOX")) == after
    assert dovecot.set_uidvalidity("daily", "INBOX", 7) == 7
    assert _uidvalidity(await client.select("INBOX")) == 7


def test_a_base_dir_too_long_for_unix_sockets_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        Dovecot(Path("/tmp") / ("x" * 80), {"daily": "secret"})


def test_two_servers_run_side_by_side() -> None:
    bases = [scratch_dir(), scratch_dir()]
    servers = [Dovecot(base, {"daily": "secret"}) for base in bases]
    try:
        for server in servers:
            server.start()
        servers[0].append("daily", "INBOX", _message(1))

        assert servers[0].port != servers[1].port
        assert servers[0].mailbox_uids("daily", "INBOX") == [1]
        assert servers[1].mailbox_uids("daily", "INBOX") == []
    finally:
        for server, base in zip(servers, bases, strict=True):
            server.kill()
            shutil.rmtree(base)


async def _send(sink: SmtpSink, raw: bytes, to: str = "unit@example.gov.cn") -> None:
    await aiosmtplib.send(
        raw, sender="daily@example.gov.cn", recipients=[to], hostname=sink.host, port=sink.port, timeout=3
    )


async def test_the_sink_receives_the_message_byte_for_byte(smtp_sink: SmtpSink) -> None:
    await _send(smtp_sink, RAW)

    [mail] = await smtp_sink.wait_for(1, timeout=3)

    assert mail.raw == RAW
    assert mail.mail_from == "daily@example.gov.cn"
    assert mail.rcpt_tos == ("unit@example.gov.cn",)


async def test_wait_for_wakes_for_messages_sent_while_it_waits(smtp_sink: SmtpSink) -> None:
    waiting = asyncio.create_task(smtp_sink.wait_for(3, timeout=3))
    for n in range(3):
        await _send(smtp_sink, _message(n), to=f"unit{n}@example.gov.cn")

    received = await waiting

    assert [mail.raw for mail in received] == [_message(n) for n in range(3)]


async def test_wait_for_times_out_when_too_few_messages_arrive(smtp_sink: SmtpSink) -> None:
    await _send(smtp_sink, _message(1))

    with pytest.raises(TimeoutError, match="1 of 2"):
        await smtp_sink.wait_for(2, timeout=0.05)


async def test_an_smtp_outage_refuses_connections_until_the_sink_returns(smtp_sink: SmtpSink) -> None:
    port = smtp_sink.port
    await _send(smtp_sink, _message(1))
    connected = aiosmtplib.SMTP(hostname=smtp_sink.host, port=port, timeout=3)
    await connected.connect()
    smtp_sink.stop()

    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        await connected.noop()
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await _send(smtp_sink, _message(2))

    smtp_sink.start()
    await _send(smtp_sink, _message(3))
    received = await smtp_sink.wait_for(2, timeout=3)
    assert smtp_sink.port == port
    assert [mail.raw for mail in received] == [_message(1), _message(3)]
