"""Keyset pagination: pages of rows and the opaque cursor that continues them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of rows, and the cursor of the next page (None on the last page)."""

    rows: list[T]
    next_cursor: str | None
    #: How many rows match the filter in all, when it was cheap to count (else None).
    total: int | None = None
