"""Fixtures that run a real Dovecot IMAP server and an SMTP sink on free loopback ports, one per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from servers import Dovecot, SmtpSink, scratch_dir

#: The two watched inboxes of SPEC.md, as IMAP users.
USERS = {"daily": "secret", "commissioned": "secret"}


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A running Dovecot with the users "daily" and "commissioned" (password "secret"), empty INBOXes.

    Its log is printed at teardown, which pytest shows only when the test failed.
    """
    base = scratch_dir()
    server = Dovecot(base, USERS)
    try:
        server.start()
        yield server
    finally:
        server.kill()  # nothing to keep, and a SIGTERM shutdown takes 10-100 ms longer
        print(server.log_text())
        shutil.rmtree(base)


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A running SMTP sink that accepts and keeps every message."""
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()
