"""Where the tests find PostgreSQL: the loopback server unless MAILGATE_TEST_PG says otherwise."""

from __future__ import annotations

import os

PG_DSN = os.environ.get("MAILGATE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
