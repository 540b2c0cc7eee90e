"""Driver errors translated at the store boundary: an outage (retry later) or one piece of work's bad data."""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import exc as sa

from mailgate.errors import MailgateError, StoreDataError, StoreError

#: SQLSTATE classes in which PostgreSQL says the database, not the data, is at fault: connection (08),
#: transaction state such as a read-only standby (25), authorization (28), catalog (3D), rollbacks
#: (40: serialization, deadlock), schema or privileges (42), resources (53), locks (55), operator
#: intervention such as a shutdown or a cancelled statement (57), system (58), configuration (F0),
#: internal (XX). Data exceptions (22), constraint violations (23) and the rest are the data's fault.
_PG_OUTAGE = frozenset({"08", "25", "28", "3D", "40", "42", "53", "55", "57", "58", "F0", "XX"})
#: Of those, classes whose server message names no value (a host, a role, a database): said in full.
_PG_SAYABLE = frozenset({"08", "28", "3D", "53", "57", "58"})
_LIMIT = 200
#: The packages whose code talks to the database: an exception raised in them is the database's.
_DATABASE_PACKAGES = frozenset({"sqlalchemy", "asyncpg", "aiosqlite", "sqlite3"})


def translate(exc: BaseException) -> MailgateError | None:
    """The mailgate error for a failure of the driver or of SQLAlchemy; None for anything else.

    Connection and operational failures become ``StoreError`` (retry later, nothing is lost); a value
    or row the database refuses becomes ``StoreDataError``. Messages give the exception class and a
    short reason, never SQL or its parameters (which carry message bytes)."""
    if isinstance(exc, MailgateError) or not isinstance(exc, Exception):
        return None
    root = _root(exc)
    if root is None:
        return None
    outage, reason = _classify(exc, root)
    return (
        StoreError(f"database unavailable: {reason}")
        if outage
        else StoreDataError(f"the database refused the data: {reason}")
    )


def from_database(exc: BaseException) -> bool:
    """Whether ``exc`` comes from the database layer: an exception of SQLAlchemy or of a driver, or
    one (an OSError, a UnicodeError in binding a value) raised inside their code. An exception the
    caller's own code raises (reading a file, decoding bytes) is not, whatever its class."""
    if isinstance(exc, sa.SQLAlchemyError | sqlite3.Error) or _is_asyncpg(exc):
        return True
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    module = str(tb.tb_frame.f_globals.get("__name__", ""))
    return module.split(".", 1)[0] in _DATABASE_PACKAGES


def _root(exc: Exception) -> BaseException | None:
    """The driver's own exception behind ``exc``, or ``exc`` when it is one; None when ``exc`` is not
    a database failure at all."""
    if isinstance(exc, sa.StatementError) and exc.orig is not None:
        orig: BaseException = exc.orig
        # asyncpg's errors come wrapped in SQLAlchemy's adapter classes: the original is the cause.
        return orig.__cause__ if _is_asyncpg(orig.__cause__) else orig
    if isinstance(exc, sa.SQLAlchemyError | sqlite3.Error | OSError | UnicodeError) or _is_asyncpg(exc):
        return exc
    return None


def _classify(exc: Exception, root: BaseException) -> tuple[bool, str]:
    """Whether ``exc`` (with the driver's ``root``) is an outage, and a reason that is safe to show."""
    name = type(root).__name__
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True, f"{name}: the connection was lost"
    if isinstance(root, OSError):  # refused, reset, unreachable, timed out (TimeoutError is one)
        return True, f"{name}: {_short(root) or 'no answer'}"
    if _is_asyncpg(root):
        return _asyncpg(root)
    if isinstance(root, sqlite3.Error):
        return _sqlite(root)
    if isinstance(root, sa.SQLAlchemyError):
        return isinstance(root, _SQLALCHEMY_OUTAGES), name
    if isinstance(exc, sa.DBAPIError) and isinstance(root, Exception) and _is_adapter(root):
        # An error of SQLAlchemy's driver adapter itself: its class says what kind it is.
        return not isinstance(exc, _SQLALCHEMY_DATA), name
    # A Python exception in binding a value (a str the driver cannot encode, a wrong type).
    return False, f"{name} in a value"


def _asyncpg(root: BaseException) -> tuple[bool, str]:
    # By class name: asyncpg has no type information, and need not be installed for SQLite.
    name = type(root).__name__
    kinds = {cls.__name__ for cls in type(root).__mro__}
    state = getattr(root, "sqlstate", None)
    if "PostgresError" in kinds and isinstance(state, str) and len(state) == 5:
        outage = state[:2] in _PG_OUTAGE
        if state[:2] in _PG_SAYABLE:
            return outage, f"{_short(root)} ({state})"
        constraint = getattr(root, "constraint_name", None)
        return outage, f"{name} ({state})" + (f" on {constraint}" if constraint else "")
    if "DataError" in kinds:  # the client could not encode an argument
        return False, f"{name}: a value the driver cannot send"
    return True, name  # the connection's state: closed, busy, protocol trouble


def _sqlite(root: sqlite3.Error) -> tuple[bool, str]:
    # SQLite's own messages name tables, columns and constraints, never the values bound.
    reason = f"{type(root).__name__}: {_short(root)}"
    if isinstance(root, sqlite3.IntegrityError | sqlite3.DataError | sqlite3.InterfaceError):
        return False, reason
    if isinstance(root, sqlite3.ProgrammingError | sqlite3.NotSupportedError):
        return "closed" in str(root), reason  # "Cannot operate on a closed database." is not the data
    return True, reason  # OperationalError (locked, cannot open, I/O, no such table), corruption


def _is_asyncpg(exc: object) -> bool:
    return type(exc).__module__.split(".", 1)[0] == "asyncpg"


def _is_adapter(exc: Exception) -> bool:
    return type(exc).__module__.startswith("sqlalchemy.")


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:_LIMIT]


_SQLALCHEMY_OUTAGES: tuple[type[Any], ...] = (
    sa.DisconnectionError,
    sa.TimeoutError,  # no connection free in the pool in time
    sa.PendingRollbackError,  # a transaction broken by a lost connection
    sa.ResourceClosedError,
    sa.InterfaceError,
    sa.OperationalError,
    sa.InternalError,
)
_SQLALCHEMY_DATA: tuple[type[Any], ...] = (
    sa.DataError,
    sa.IntegrityError,
    sa.ProgrammingError,
    sa.NotSupportedError,
)
