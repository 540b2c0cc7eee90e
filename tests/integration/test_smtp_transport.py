"""SmtpTransport against real aiosmtpd servers: delivery, reuse, outages, refusals, before_data, AUTH, TLS."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from servers import LOOPBACK, ReceivedMail, SmtpSink, free_port
from structlog.testing import capture_logs

from mailgate.config import SmtpSettings
from mailgate.errors import PermanentTransportError, TransportError
from mailgate.transports.base import Outgoing
from mailgate.transports.smtp import SmtpTransport

SENDER = "inf@gzy.gov.cn"
RECIPIENT = "xxy@th.gz.gov.cn"
USERNAME = "mailgate"
PASSWORD = "s3cret-Pa55"
#: aiosmtplib ends the data with CRLF if the message does not, so test messages end with one already.
RAW = (
    "From: =?utf-8?b?5biC5pS/5bqc5Yqe5YWs5Y6F?= <inf@gzy.gov.cn>\r\n"
    "To: xxy@th.gz.gov.cn\r\n"
    "Subject: =?utf-8?b?5Zue5omn?=\r\n"
    "Auto-Submitted: auto-replied\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "您报送的信息已收到。\r\n"
    ".a line that starts with a dot\r\n"
    ".\r\n"
    "编号：20240101-0001\r\n"
).encode()


def outgoing(outbox_id: int = 1, recipients: Sequence[str] = (RECIPIENT,), raw: bytes = RAW) -> Outgoing:
    return Outgoing(outbox_id=outbox_id, sender=SENDER, recipients=tuple(recipients), raw=raw)


class Recorder:
    """An aiosmtpd handler that logs each command in order, answers as told, and keeps what it accepts.

    ``replies`` maps "MAIL", "RCPT <address>" or "DATA" to the reply the server gives instead of 250.
    """

    def __init__(self, replies: Mapping[str, str] | None = None) -> None:
        self.replies = dict(replies or {})
        self.events: list[str] = []
        self.messages: list[ReceivedMail] = []
        self.auth: list[tuple[str, bytes]] = []

    @property
    def connections(self) -> int:
        return self.events.count("EHLO")

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.events.append("EHLO")
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.events.append("MAIL")
        envelope.mail_from = address
        return self.replies.get("MAIL", "250 OK")

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.events.append(f"RCPT {address}")
        reply = self.replies.get(f"RCPT {address}")
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.events.append("DATA")
        reply = self.replies.get("DATA")
        if reply is not None:
            return reply
        raw = envelope.original_content or b""
        self.messages.append(ReceivedMail(envelope.mail_from or "", tuple(envelope.rcpt_tos), raw))
        return "250 Message accepted"

    async def handle_RSET(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.events.append("RSET")
        return "250 OK"

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.events.append("QUIT")
        return "221 Bye"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.auth.append((mechanism, data.login))
        ok = data.login == USERNAME.encode() and data.password == PASSWORD.encode()
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 235 or 535


Serve = Callable[..., tuple[Recorder, SmtpSettings]]
Make = Callable[..., SmtpTransport]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start a Recorder-run aiosmtpd on a free loopback port; return it and settings that reach it."""
    with contextlib.ExitStack() as stack:

        def start(
            replies: Mapping[str, str] | None = None,
            *,
            security: Literal["tls", "starttls", "none"] = "none",
            ssl_context: ssl.SSLContext | None = None,
            username: str | None = None,
            password: str | None = None,
            password_file: Path | None = None,
            **smtp_options: Any,
        ) -> tuple[Recorder, SmtpSettings]:
            recorder = Recorder(replies)
            if smtp_options.pop("authenticate", False):
                smtp_options["authenticator"] = recorder.authenticate
            port = free_port()
            controller = Controller(
                recorder,
                hostname=LOOPBACK,
                port=port,
                ssl_context=ssl_context,
                server_hostname="mailgate-test",
                **smtp_options,
            )
            controller.start()
            stack.callback(controller.stop)
            settings = SmtpSettings.model_validate(
                {
                    "host": LOOPBACK,
                    "port": port,
                    "security": security,
                    "username": username,
                    "password": password,
                    "password_file": password_file,
                    "timeout_seconds": 5,
                }
            )
            return recorder, settings

        yield start


@pytest.fixture
async def transport_factory() -> AsyncIterator[Make]:
    """Build transports that are closed at teardown."""
    made: list[SmtpTransport] = []

    def make(settings: SmtpSettings, tls_context: ssl.SSLContext | None = None) -> SmtpTransport:
        transport = SmtpTransport(settings, tls_context=tls_context)
        made.append(transport)
        return transport

    yield make
    for transport in made:
        await transport.close()


def sink_settings(sink: SmtpSink) -> SmtpSettings:
    return SmtpSettings(host=sink.host, port=sink.port, security="none", timeout_seconds=5)


# Delivery and connection reuse


async def test_message_arrives_byte_identical_with_its_envelope(
    smtp_sink: SmtpSink, transport_factory: Make
) -> None:
    transport = transport_factory(sink_settings(smtp_sink))
    other = "editors@gzy.gov.cn"
    with capture_logs() as logs:
        await transport.send(outgoing(7, [RECIPIENT, other]))
    (received,) = await smtp_sink.wait_for(1)
    assert received == ReceivedMail(SENDER, (RECIPIENT, other), RAW)
    sent = [entry for entry in logs if entry["event"] == "smtp_sent"]
    assert sent == [
        {"event": "smtp_sent", "log_level": "info", "outbox_id": 7, "recipients": [RECIPIENT, other]}
    ]


async def test_a_message_without_final_crlf_gets_one(smtp_sink: SmtpSink, transport_factory: Make) -> None:
    transport = transport_factory(sink_settings(smtp_sink))
    await transport.send(outgoing(raw=RAW.removesuffix(b"\r\n")))
    (received,) = await smtp_sink.wait_for(1)
    assert received.raw == RAW


async def test_sends_reuse_one_connection(serve: Serve, transport_factory: Make) -> None:
    recorder, settings = serve()
    transport = transport_factory(settings)
    await transport.open()
    await transport.open()
    for outbox_id in range(1, 4):
        await transport.send(outgoing(outbox_id, raw=RAW + f"{outbox_id}\r\n".encode()))
    assert recorder.connections == 1
    assert [m.raw for m in recorder.messages] == [RAW + f"{n}\r\n".encode() for n in range(1, 4)]


async def test_close_says_quit_and_a_later_send_connects_again(serve: Serve, transport_factory: Make) -> None:
    recorder, settings = serve()
    transport = transport_factory(settings)
    await transport.send(outgoing(1))
    await transport.close()
    assert recorder.events[-1] == "QUIT"
    await transport.close()
    await transport.send(outgoing(2))
    assert recorder.connections == 2
    assert len(recorder.messages) == 2


# Outages


async def test_server_down_is_temporary_and_the_next_send_after_restart_succeeds(
    smtp_sink: SmtpSink, transport_factory: Make
) -> None:
    transport = transport_factory(sink_settings(smtp_sink))
    await transport.send(outgoing(1))
    await smtp_sink.wait_for(1)
    smtp_sink.stop()
    with pytest.raises(TransportError) as info:
        await transport.send(outgoing(2))
    assert type(info.value) is TransportError
    assert isinstance(info.value.__cause__, aiosmtplib.SMTPConnectError)
    smtp_sink.start()
    await transport.send(outgoing(3, raw=RAW + b"3\r\n"))
    received = await smtp_sink.wait_for(2)
    assert [m.raw for m in received] == [RAW, RAW + b"3\r\n"]


async def test_a_dropped_connection_is_replaced_transparently(
    smtp_sink: SmtpSink, transport_factory: Make
) -> None:
    transport = transport_factory(sink_settings(smtp_sink))
    await transport.send(outgoing(1))
    smtp_sink.stop()  # drops the transport's connection
    smtp_sink.start()
    await transport.send(outgoing(2, raw=RAW + b"2\r\n"))
    received = await smtp_sink.wait_for(2)
    assert received[1].raw == RAW + b"2\r\n"


async def test_close_never_raises_when_the_server_is_gone(
    smtp_sink: SmtpSink, transport_factory: Make
) -> None:
    transport = transport_factory(sink_settings(smtp_sink))
    await transport.open()
    smtp_sink.stop()
    await transport.close()
    await SmtpTransport(sink_settings(smtp_sink)).close()  # never opened


async def test_refused_connection_is_temporary(transport_factory: Make) -> None:
    transport = transport_factory(SmtpSettings(host=LOOPBACK, port=free_port(), security="none"))
    with capture_logs() as logs, pytest.raises(TransportError) as info:
        await transport.open()
    assert type(info.value) is TransportError
    assert [(e["event"], e["permanent"]) for e in logs] == [("smtp_failed", False)]


async def test_a_silent_server_times_out_as_temporary(transport_factory: Make) -> None:
    with socket.socket() as listener:  # accepts connections (in the backlog) and never says a word
        listener.bind((LOOPBACK, 0))
        listener.listen()
        port = listener.getsockname()[1]
        settings = SmtpSettings(host=LOOPBACK, port=port, security="none", timeout_seconds=0.1)
        transport = transport_factory(settings)
        with pytest.raises(TransportError) as info:
            await transport.send(outgoing())
    assert type(info.value) is TransportError
    assert isinstance(info.value.__cause__, TimeoutError)


# Refusals, and the connection afterwards


@pytest.mark.parametrize(
    ("command", "reply", "permanent"),
    [
        ("MAIL", "451 4.3.0 Try again later", False),
        ("MAIL", "553 5.7.1 Sender not allowed", True),
        (f"RCPT {RECIPIENT}", "451 4.3.0 Try again later", False),
        (f"RCPT {RECIPIENT}", "550 5.1.1 No such user", True),
        ("DATA", "451 4.3.0 Try again later", False),
        ("DATA", "554 5.6.0 Message rejected", True),
    ],
)
async def test_refusals_are_permanent_exactly_for_5xx_and_the_connection_survives(
    serve: Serve, transport_factory: Make, command: str, reply: str, permanent: bool
) -> None:
    recorder, settings = serve({command: reply})
    transport = transport_factory(settings)
    with capture_logs() as logs, pytest.raises(TransportError) as info:
        await transport.send(outgoing(5))
    assert isinstance(info.value, PermanentTransportError) is permanent
    assert isinstance(info.value.__cause__, aiosmtplib.SMTPException)
    assert reply in str(info.value)
    assert recorder.events[-1] == "RSET"
    assert recorder.messages == []
    failed = [e for e in logs if e["event"] == "smtp_failed"]
    assert [(e["outbox_id"], e["permanent"]) for e in failed] == [(5, permanent)]

    recorder.replies.clear()
    await transport.send(outgoing(6))
    assert recorder.connections == 1
    assert [m.raw for m in recorder.messages] == [RAW]


async def test_a_refused_recipient_is_dropped_when_another_is_accepted(
    serve: Serve, transport_factory: Make
) -> None:
    gone = "gone@th.gz.gov.cn"
    recorder, settings = serve({f"RCPT {gone}": "550 5.1.1 No such user"})
    transport = transport_factory(settings)
    with capture_logs() as logs:
        await transport.send(outgoing(3, [gone, RECIPIENT]))
    assert recorder.messages == [ReceivedMail(SENDER, (RECIPIENT,), RAW)]
    (warning,) = [e for e in logs if e["event"] == "smtp_recipients_refused"]
    assert warning["refused"] == {gone: "550 5.1.1 No such user"}


@pytest.mark.parametrize(
    ("second", "permanent"), [("550 5.1.1 No such user", True), ("452 4.2.2 Mailbox full", False)]
)
async def test_all_recipients_refused_is_permanent_only_if_every_refusal_is(
    serve: Serve, transport_factory: Make, second: str, permanent: bool
) -> None:
    other = "other@th.gz.gov.cn"
    _, settings = serve({f"RCPT {RECIPIENT}": "550 5.1.1 No such user", f"RCPT {other}": second})
    transport = transport_factory(settings)
    with pytest.raises(TransportError) as info:
        await transport.send(outgoing(recipients=[RECIPIENT, other]))
    assert isinstance(info.value, PermanentTransportError) is permanent
    assert isinstance(info.value.__cause__, aiosmtplib.SMTPRecipientsRefused)
    assert RECIPIENT in str(info.value)
    assert other in str(info.value)


async def test_non_ascii_addresses_use_smtputf8_when_offered(serve: Serve, transport_factory: Make) -> None:
    chinese = "张三@天河区.中国"
    recorder, settings = serve(enable_SMTPUTF8=True)
    await transport_factory(settings).send(outgoing(recipients=[chinese]))
    assert recorder.messages[0].rcpt_tos == (chinese,)

    ascii_only, plain = serve(enable_SMTPUTF8=False)
    with pytest.raises(PermanentTransportError) as info:
        await transport_factory(plain).send(outgoing(recipients=[chinese]))
    assert isinstance(info.value.__cause__, UnicodeEncodeError)
    assert ascii_only.events == ["EHLO", "MAIL", "RSET"]  # the recipient never went out


# before_data


async def test_before_data_runs_after_the_envelope_and_before_data(
    serve: Serve, transport_factory: Make
) -> None:
    other = "editors@gzy.gov.cn"
    recorder, settings = serve()

    async def before_data() -> None:
        recorder.events.append("before_data")

    await transport_factory(settings).send(outgoing(recipients=[RECIPIENT, other]), before_data=before_data)
    assert recorder.events == ["EHLO", "MAIL", f"RCPT {RECIPIENT}", f"RCPT {other}", "before_data", "DATA"]


async def test_before_data_is_not_called_when_the_recipient_is_refused(
    serve: Serve, transport_factory: Make
) -> None:
    recorder, settings = serve({f"RCPT {RECIPIENT}": "550 5.1.1 No such user"})
    calls: list[str] = []

    async def before_data() -> None:
        calls.append("before_data")

    with pytest.raises(PermanentTransportError):
        await transport_factory(settings).send(outgoing(), before_data=before_data)
    assert calls == []
    assert "DATA" not in recorder.events


async def test_a_failing_before_data_propagates_and_no_data_is_sent(
    serve: Serve, transport_factory: Make
) -> None:
    recorder, settings = serve()
    transport = transport_factory(settings)

    async def before_data() -> None:
        raise RuntimeError("the store is down")

    with pytest.raises(RuntimeError, match="the store is down"):
        await transport.send(outgoing(1), before_data=before_data)
    assert recorder.events[-1] == "RSET"
    assert "DATA" not in recorder.events
    await transport.send(outgoing(2))
    assert recorder.connections == 1
    assert len(recorder.messages) == 1


async def test_cancelled_during_before_data_drops_the_connection(
    serve: Serve, transport_factory: Make
) -> None:
    recorder, settings = serve()
    transport = transport_factory(settings)

    async def before_data() -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await transport.send(outgoing(1), before_data=before_data)
    await transport.send(outgoing(2))
    assert recorder.connections == 2
    assert "DATA" in recorder.events
    assert len(recorder.messages) == 1


# AUTH


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
async def test_login_with_each_mechanism(serve: Serve, transport_factory: Make, mechanism: str) -> None:
    other = {"LOGIN": "PLAIN", "PLAIN": "LOGIN"}[mechanism]
    recorder, settings = serve(
        username=USERNAME,
        password=PASSWORD,
        authenticate=True,
        auth_require_tls=False,
        auth_exclude_mechanism=[other],
    )
    await transport_factory(settings).send(outgoing())
    assert recorder.auth == [(mechanism, USERNAME.encode())]
    assert len(recorder.messages) == 1


async def test_the_password_may_come_from_a_file(
    serve: Serve, transport_factory: Make, tmp_path: Path
) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text(PASSWORD + "\n")
    recorder, settings = serve(
        username=USERNAME, password_file=secret, authenticate=True, auth_require_tls=False
    )
    await transport_factory(settings).send(outgoing())
    assert len(recorder.messages) == 1


async def test_a_wrong_password_is_permanent_and_never_shown(serve: Serve, transport_factory: Make) -> None:
    wrong = "Wr0ng-but-still-secret"
    recorder, settings = serve(username=USERNAME, password=wrong, authenticate=True, auth_require_tls=False)
    transport = transport_factory(settings)
    with capture_logs() as logs, pytest.raises(PermanentTransportError) as info:
        await transport.send(outgoing())
    assert isinstance(info.value.__cause__, aiosmtplib.SMTPAuthenticationError)
    assert "535" in str(info.value)
    assert wrong not in str(info.value)
    assert all(wrong not in repr(entry) for entry in logs)
    assert recorder.messages == []


# TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=mailgate-test"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-keyout", str(key), "-out", str(cert), "-addext", f"subjectAltName=IP:{LOOPBACK}"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def client_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certificate[0])


async def test_starttls_with_a_trusted_certificate(
    serve: Serve, transport_factory: Make, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    recorder, settings = serve(
        security="starttls",
        username=USERNAME,
        password=PASSWORD,
        authenticate=True,
        tls_context=server_tls,
        require_starttls=True,  # MAIL before STARTTLS would be refused
    )
    await transport_factory(settings, client_tls).send(outgoing())
    assert recorder.messages == [ReceivedMail(SENDER, (RECIPIENT,), RAW)]
    assert [m for m, _ in recorder.auth] == ["PLAIN"]


async def test_implicit_tls(
    serve: Serve, transport_factory: Make, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    recorder, settings = serve(security="tls", ssl_context=server_tls)
    await transport_factory(settings, client_tls).send(outgoing())
    assert recorder.messages == [ReceivedMail(SENDER, (RECIPIENT,), RAW)]


async def test_an_untrusted_certificate_is_a_temporary_failure(
    serve: Serve, transport_factory: Make, server_tls: ssl.SSLContext
) -> None:
    recorder, settings = serve(security="starttls", tls_context=server_tls, require_starttls=True)
    with pytest.raises(TransportError) as info:
        await transport_factory(settings).send(outgoing())  # the system's authorities only
    assert type(info.value) is TransportError
    assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)
    assert recorder.messages == []
