"""Keyset pagination: pages of rows and the opaque cursor that continues them."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: The range of the databases' integer columns (ids): a larger number names no row on either backend.
ID_MIN = -(2**31)
ID_MAX = 2**31 - 1
#: No cursor this module makes is longer (a sort key of a few values).
MAX_CURSOR = 512


def fits_id(value: int) -> bool:
    """Whether ``value`` fits the id columns (a larger one names no row, and binding it would fail)."""
    return ID_MIN <= value <= ID_MAX


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of rows, and the cursor of the next page (None on the last page)."""

    rows: list[T]
    next_cursor: str | None
    #: How many rows match the filter in all, when it was cheap to count (else None).
    total: int | None = None


def encode_cursor(kind: str, key: Sequence[bool | int | str | dt.datetime]) -> str:
    """An opaque cursor for the row after which the next page starts: ``key`` is that row's sort key."""
    values = [{"t": v.isoformat()} if isinstance(v, dt.datetime) else v for v in key]
    data = json.dumps([kind, *values], ensure_ascii=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, shape: Sequence[type]) -> tuple[Any, ...]:
    """The sort key in ``cursor`` (made by ``encode_cursor(kind, ...)``), checked against ``shape``,
    the type of each element; ValueError for anything else."""
    if len(cursor) > MAX_CURSOR:
        raise ValueError("not a cursor")
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError, RecursionError) as exc:
        raise ValueError("not a cursor") from exc
    if not isinstance(data, list) or len(data) != len(shape) + 1 or data[0] != kind:
        raise ValueError("not a cursor of this list")
    return tuple(_value(value, expected) for value, expected in zip(data[1:], shape, strict=True))


def _value(value: object, expected: type) -> Any:
    if expected is dt.datetime:
        if not isinstance(value, dict) or not isinstance(value.get("t"), str):
            raise ValueError("bad time in cursor")
        try:
            moment = dt.datetime.fromisoformat(value["t"])
        except ValueError as exc:
            raise ValueError("bad time in cursor") from exc
        if moment.tzinfo is None:
            raise ValueError("bad time in cursor")
        try:  # the store binds instants in UTC: one at either end of time may not have a UTC reading
            return moment.astimezone(dt.UTC)
        except OverflowError as exc:
            raise ValueError("bad time in cursor") from exc
    # bool is an int in Python: insist on the exact type.
    if type(value) is not expected or (isinstance(value, int) and not fits_id(value)):
        raise ValueError("bad value in cursor")
    return value
