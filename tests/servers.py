"""Real IMAP (Dovecot) and SMTP (aiosmtpd) servers on free loopback ports, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import imaplib
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

_T = TypeVar("_T")

LOOPBACK = "127.0.0.1"
#: Dovecot puts unix sockets under ``base_dir/run``; their paths must stay within the kernel's limit.
MAX_RUN_DIR_CHARS = 78
#: Mailboxes a test may create with :meth:`Dovecot.create_mailbox`, besides INBOX.
FOLDERS = ("Processed", "Rejected", "Ignored", "Quarantine")

_READY_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0
#: How long :meth:`Dovecot.stop` lets the processes end on SIGTERM; usually they take 10-100 ms, but
#: the master now and then waits a second or more for children that are already gone.
_TERM_GRACE = 0.3
_MIN_SHM_FREE = 256 * 2**20
_POLL_INTERVAL = 0.002
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


def scratch_dir(prefix: str = "mg-dc-") -> Path:
    """A new, empty, world-traversable (0755) directory with a short path, for :class:`Dovecot`'s base_dir.

    On /dev/shm when that is a usable tmpfs (writing mail there is about ten times faster than on a
    busy disk), else under /tmp. The caller removes it.
    """
    shm = Path("/dev/shm")
    fast = shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > _MIN_SHM_FREE
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=shm if fast else "/tmp"))
    path.chmod(0o755)
    return path


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on ``host`` that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _poll(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Re-check ``condition`` every couple of milliseconds until it holds; TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} after {timeout} s")
        time.sleep(_POLL_INTERVAL)


def _check(result: tuple[str, list[_T]], what: str) -> list[_T]:
    status, data = result
    if status != "OK":
        raise imaplib.IMAP4.error(f"{what}: {status} {data!r}")
    return data


class Dovecot:
    """A Dovecot IMAP server run from one directory: plaintext LOGIN, passwd-file users, Maildir mail.

    Everything lives under ``base_dir`` (config, users, sockets, state, mail, log; see
    :func:`scratch_dir`), so several servers can run side by side and nothing is read from /etc/dovecot.
    The port is chosen once, when the object is built, and kept across :meth:`stop`/:meth:`start`, like
    the mail. As root, mail belongs to Debian's ``dovecot`` user (Dovecot refuses uid 0).
    """

    def __init__(self, base_dir: Path, users: Mapping[str, str], *, host: str = LOOPBACK) -> None:
        if len(str(base_dir / "run")) > MAX_RUN_DIR_CHARS:
            raise ValueError(f"base_dir too long for Dovecot's unix sockets: {base_dir}")
        if not users:
            raise ValueError("Dovecot needs at least one user")
        self.base_dir = base_dir
        self.users = dict(users)
        self.host = host
        self.port = free_port(host)
        self.config_path = base_dir / "dovecot.conf"
        self.log_path = base_dir / "log" / "dovecot.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._uid, self._gid, internal_user, login_user = _run_as()
        self._unique = itertools.count()
        self._write_files(internal_user, login_user)

    @property
    def running(self) -> bool:
        """Whether the master process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the master in the foreground of its own session; return once a LOGIN succeeds."""
        if self.running:
            raise RuntimeError("Dovecot is already running")
        with self.log_path.with_name("stderr.log").open("ab") as stderr:
            self._process = subprocess.Popen(
                ["dovecot", "-F", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        try:
            _poll(self._listening, _READY_TIMEOUT, f"Dovecot not listening on {self.host}:{self.port}")
            user, password = next(iter(self.users.items()))
            with self.session(user, password):
                pass
        except BaseException:
            self.kill()
            raise

    def stop(self) -> None:
        """Shut down: SIGTERM to the whole process group (master, helpers, and the sessions of connected
        clients, which say BYE and close their mailboxes), then SIGKILL whatever is left after a moment.

        A SIGTERM to the master alone takes over a second and leaves client sessions running.
        """
        process = self._process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(_TERM_GRACE)
        self.kill()

    def kill(self) -> None:
        """SIGKILL the whole process group at once, as a crash would; the fastest stop.

        Returns once the port refuses connections: a login process that is still dying keeps the
        listening socket open, and would otherwise take (and reset) the next connection.
        """
        process = self._process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self._process = None
        (self.base_dir / "run" / "master.pid").unlink(missing_ok=True)
        _poll(lambda: not _accepts(self.host, self.port), _STOP_TIMEOUT, "the IMAP port still open")

    def restart(self) -> None:
        """Stop and start again: same port, same mail; connected clients lose their connections."""
        self.stop()
        self.start()

    def log_text(self) -> str:
        """Everything Dovecot has logged so far."""
        parts = [
            p.read_text(errors="replace")
            for p in (self.log_path, self.log_path.with_name("stderr.log"))
            if p.exists()
        ]
        return "".join(parts)

    def session(self, user: str, password: str | None = None) -> imaplib.IMAP4:
        """A logged-in synchronous IMAP client (a context manager that logs out)."""
        client = imaplib.IMAP4(self.host, self.port, timeout=_READY_TIMEOUT)
        try:
            client.login(user, self.users[user] if password is None else password)
        except BaseException:
            client.shutdown()
            raise
        return client

    def create_mailbox(self, user: str, mailbox: str) -> None:
        """Create ``mailbox`` for ``user`` unless it exists."""
        with self.session(user) as client:
            _create(client, mailbox)

    def append(self, user: str, mailbox: str, *messages: bytes, at: dt.datetime | None = None) -> list[int]:
        """APPEND each raw message over IMAP (creating the mailbox if needed); return their UIDs.

        Their INTERNALDATE is ``at``, else the server's now, which is the tests' clock (faked or not:
        see import_environment in the configuration)."""
        uids: list[int] = []
        internaldate = None if at is None else imaplib.Time2Internaldate(at)
        with self.session(user) as client:
            _create(client, mailbox)
            for raw in messages:
                data = _check(client.append(_quote(mailbox), "", internaldate, raw), "APPEND")
                match = _APPENDUID.search(data[0] if isinstance(data[0], bytes) else b"")
                if match is None:
                    raise imaplib.IMAP4.error(f"APPEND without APPENDUID: {data!r}")
                uids.append(int(match.group(2)))
        return uids

    def drop_into_maildir(self, user: str, mailbox: str, messages: Iterable[bytes]) -> int:
        """Write raw messages straight into the mailbox's ``new/`` directory; return how many.

        Much faster than APPEND for seeding thousands of messages: Dovecot assigns UIDs when the
        mailbox is next opened. Works whether or not the server is running. A file's time is its
        INTERNALDATE: now, as Dovecot reads it (under faketime, the real time a file gets is read by
        Dovecot, as by this process, shifted to the faked clock).
        """
        folder = self.maildir(user, mailbox)
        self._make_maildir(folder)
        count = 0
        for raw in messages:
            name = f"{int(time.time())}.M{next(self._unique)}P{os.getpid()}.mailgate-test"
            tmp = folder / "tmp" / name
            tmp.write_bytes(raw)
            os.chown(tmp, self._uid, self._gid)
            tmp.rename(folder / "new" / name)
            count += 1
        return count

    def mailbox_uids(self, user: str, mailbox: str) -> list[int]:
        """The UIDs of the messages in ``mailbox``, ascending."""
        with self.session(user) as client:
            _check(client.select(_quote(mailbox), readonly=True), "EXAMINE")
            data = _check(client.uid("SEARCH", "ALL"), "UID SEARCH")
        first = data[0]
        return sorted(int(uid) for uid in first.split()) if isinstance(first, bytes) else []

    def uidvalidity(self, user: str, mailbox: str) -> int:
        """The mailbox's current UIDVALIDITY, from STATUS."""
        with self.session(user) as client:
            data = _check(client.status(_quote(mailbox), "(UIDVALIDITY)"), "STATUS")
        match = _UIDVALIDITY.search(data[0] if isinstance(data[0], bytes) else b"")
        if match is None:
            raise imaplib.IMAP4.error(f"STATUS without UIDVALIDITY: {data!r}")
        return int(match.group(1))

    def set_uidvalidity(self, user: str, mailbox: str, value: int | None = None) -> int:
        """Give a mailbox a new UIDVALIDITY (default: the current one plus one) and return it.

        Messages and their UIDs stay, as after a server rebuilt its index. Uses ``doveadm mailbox
        update``, so the server must be running. The next SELECT shows the new value; a session that
        has the mailbox selected is not reliably told (Dovecot 2.3 sends it ``BYE IMAP session state
        is inconsistent`` only if messages arrived during that session).
        """
        new = self.uidvalidity(user, mailbox) + 1 if value is None else value
        if not 0 < new < 2**32:
            raise ValueError(f"UIDVALIDITY must be a non-zero 32-bit number, not {new}")
        subprocess.run(
            [
                "doveadm",
                "-c",
                str(self.config_path),
                "mailbox",
                "update",
                "-u",
                user,
                "--uid-validity",
                str(new),
                mailbox,
            ],
            check=True,
            capture_output=True,
            timeout=_READY_TIMEOUT,
        )
        return new

    def maildir(self, user: str, mailbox: str) -> Path:
        """The Maildir++ directory that holds ``mailbox`` ("A/B" nests as ``.A.B``)."""
        root = self.base_dir / "mail" / user / "Maildir"
        if mailbox.upper() == "INBOX":
            return root
        return root / ("." + mailbox.replace("/", "."))

    def _listening(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise RuntimeError(f"Dovecot exited with {self._process.returncode}:\n{self.log_text()}")
        return _accepts(self.host, self.port)

    def _make_maildir(self, folder: Path) -> None:
        for path in (folder, folder / "cur", folder / "new", folder / "tmp"):
            if not path.exists():
                path.mkdir(mode=0o700)
                os.chown(path, self._uid, self._gid)

    def _write_files(self, internal_user: str, login_user: str) -> None:
        base = self.base_dir
        base.mkdir(parents=True, exist_ok=True)
        base.chmod(0o755)
        for sub in ("run", "state", "log"):
            (base / sub).mkdir(exist_ok=True)
        (base / "mail").mkdir(mode=0o755, exist_ok=True)
        for user in self.users:
            home = base / "mail" / user
            home.mkdir(mode=0o700, exist_ok=True)
            os.chown(home, self._uid, self._gid)
            self._make_maildir(self.maildir(user, "INBOX"))
        users_file = base / "users"
        users_file.write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items()))
        users_file.chmod(0o640)
        os.chown(users_file, -1, self._gid)
        self.log_path.touch()
        self.config_path.write_text(
            _CONFIG.format(
                base=base,
                host=self.host,
                port=self.port,
                uid=self._uid,
                gid=self._gid,
                internal_user=internal_user,
                login_user=login_user,
                name=f"mailgate-test-{self.port}",
            )
        )


def _run_as() -> tuple[int, int, str, str]:
    """Mail uid and gid, internal user and login user: Debian's dovecot users as root, else ourselves."""
    if os.geteuid() == 0:
        dovecot = pwd.getpwnam("dovecot")
        return dovecot.pw_uid, dovecot.pw_gid, "dovecot", "dovenull"
    me = pwd.getpwuid(os.geteuid())
    return me.pw_uid, me.pw_gid, me.pw_name, me.pw_name


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _create(client: imaplib.IMAP4, mailbox: str) -> None:
    if mailbox.upper() == "INBOX":
        return
    status, data = client.create(_quote(mailbox))
    if status != "OK" and b"ALREADYEXISTS" not in b"".join(d for d in data if isinstance(d, bytes)):
        raise imaplib.IMAP4.error(f"CREATE {mailbox}: {status} {data!r}")


_CONFIG = """\
# Written by tests/servers.py: a throwaway Dovecot for mailgate's integration tests.
instance_name = {name}
base_dir = {base}/run
state_dir = {base}/state
protocols = imap
listen = {host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
log_path = {base}/log/dovecot.log
info_log_path = {base}/log/dovecot.log
default_internal_user = {internal_user}
default_internal_group = {internal_user}
default_login_user = {login_user}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{base}/mail/%n/Maildir
mail_fsync = never
# Under faketime, every Dovecot process keeps the tests' clock (Dovecot clears the environment of the
# processes it starts): the times it gives mail, and the file times it reads, are then the tests' own.
import_environment = $import_environment LD_PRELOAD FAKETIME FAKETIME_SHARED
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {base}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/mail/%n
}}
namespace inbox {{
  inbox = yes
}}
protocol imap {{
  mail_max_userip_connections = 1000
}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
  service_count = 0
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service ipc {{
  chroot =
}}
service old-stats {{
  chroot =
}}
service auth-worker {{
  user = {internal_user}
}}
"""


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the SMTP sink received it: the envelope and the DATA bytes, unchanged."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes


class SmtpSink:
    """An SMTP server on a loopback port that accepts every message and keeps it in memory.

    aiosmtpd runs it on an event loop in its own thread. The port is chosen once and kept, so
    :meth:`stop` then :meth:`start` simulates an outage of the outgoing mail server; messages received
    before the outage are kept. Thread-safe: any thread or event loop may read :attr:`messages` or
    await :meth:`wait_for`.
    """

    def __init__(self, host: str = LOOPBACK, port: int | None = None) -> None:
        self.host = host
        self.port = free_port(host) if port is None else port
        self._lock = threading.Lock()
        self._messages: list[ReceivedMail] = []
        self._waiters: list[tuple[int, asyncio.AbstractEventLoop, asyncio.Event]] = []
        self._controller: Controller | None = None

    @property
    def running(self) -> bool:
        """Whether the sink is accepting connections."""
        return self._controller is not None

    @property
    def messages(self) -> list[ReceivedMail]:
        """A snapshot of the messages received so far, oldest first."""
        with self._lock:
            return list(self._messages)

    def start(self) -> None:
        """Listen on :attr:`port`; returns once the server answers."""
        if self._controller is not None:
            raise RuntimeError("the SMTP sink is already running")
        controller = Controller(
            self, hostname=self.host, port=self.port, server_hostname="mailgate-test-sink"
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Close the listener and drop any open connections; later connections are refused."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:  # noqa: ASYNC109
        """Wait until at least ``count`` messages have arrived, then return them all (TimeoutError if not)."""
        event = asyncio.Event()
        waiter = (count, asyncio.get_running_loop(), event)
        with self._lock:
            if len(self._messages) >= count:
                return list(self._messages)
            self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                await event.wait()
        except TimeoutError:
            raise TimeoutError(f"{len(self.messages)} of {count} messages within {timeout} s") from None
        finally:
            with self._lock:
                self._waiters.remove(waiter)
        return self.messages

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """aiosmtpd's hook: record the message and wake the waiters it satisfies."""
        mail = ReceivedMail(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=envelope.original_content or b"",
        )
        with self._lock:
            self._messages.append(mail)
            for count, loop, event in self._waiters:
                if len(self._messages) >= count:
                    loop.call_soon_threadsafe(event.set)
        return "250 Message accepted"
