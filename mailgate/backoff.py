"""Capped exponential backoff with full jitter, for reconnecting and retrying."""

from __future__ import annotations

import random
from collections.abc import Iterator


class Backoff(Iterator[float]):
    """Delays in seconds: each drawn uniformly between ``minimum`` and a ceiling that doubles per attempt.

    The ceiling starts at ``minimum`` (so the first delay is exactly ``minimum``) and stops growing at
    ``maximum``; the jitter spreads reconnecting clients apart. :meth:`reset` after a success starts
    over from ``minimum``. Never ends.
    """

    def __init__(self, minimum: float, maximum: float, *, rng: random.Random | None = None) -> None:
        if not 0 < minimum <= maximum:
            raise ValueError(f"backoff needs 0 < minimum <= maximum, not {minimum} and {maximum}")
        self.minimum = minimum
        self.maximum = maximum
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._ceiling = minimum
        self.attempts = 0

    @property
    def ceiling(self) -> float:
        """The largest delay the next draw can give."""
        return self._ceiling

    def __next__(self) -> float:
        ceiling = self._ceiling
        self.attempts += 1
        self._ceiling = min(self.maximum, ceiling * 2)
        # uniform() may round a hair outside its bounds
        return min(max(self._rng.uniform(self.minimum, ceiling), self.minimum), ceiling)

    def reset(self) -> None:
        """Start over from ``minimum`` (call after a success)."""
        self._ceiling = self.minimum
        self.attempts = 0
