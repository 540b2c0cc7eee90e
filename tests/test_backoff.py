"""Reconnect backoff: delays stay within bounds, the ceiling doubles up to the cap, reset starts over."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailgate.backoff import Backoff

bounds = st.tuples(
    st.floats(min_value=1e-3, max_value=1e3, allow_nan=False),
    st.floats(min_value=1.0, max_value=1e4, allow_nan=False),
).map(lambda t: (t[0], t[0] * t[1]))


@given(bounds=bounds, seed=st.integers(0, 2**32), count=st.integers(1, 200))
def test_delays_stay_between_minimum_and_maximum(bounds: tuple[float, float], seed: int, count: int) -> None:
    minimum, maximum = bounds
    backoff = Backoff(minimum, maximum, rng=random.Random(seed))
    for _ in range(count):
        ceiling = backoff.ceiling
        delay = next(backoff)
        assert minimum <= delay <= ceiling <= maximum


@given(bounds=bounds, count=st.integers(0, 100))
def test_ceiling_doubles_until_the_cap(bounds: tuple[float, float], count: int) -> None:
    minimum, maximum = bounds
    backoff = Backoff(minimum, maximum)
    for _ in range(count):
        next(backoff)
    assert backoff.ceiling == min(maximum, minimum * 2.0**count)
    assert backoff.attempts == count


def test_first_delay_is_the_minimum_and_reset_starts_over() -> None:
    backoff = Backoff(1.0, 300.0, rng=random.Random(7))
    assert next(backoff) == 1.0
    later = list(itertools.islice(backoff, 20))
    assert max(later) > 10.0  # grown well past the minimum
    assert backoff.ceiling == 300.0
    backoff.reset()
    assert backoff.attempts == 0
    assert next(backoff) == 1.0


def test_jitter_spreads_the_delays() -> None:
    delays = {next(Backoff(1.0, 60.0, rng=random.Random(seed))) for seed in range(3)}
    assert delays == {1.0}  # the first is fixed
    backoff = Backoff(1.0, 60.0, rng=random.Random(3))
    spread = list(itertools.islice(backoff, 50))[10:]
    assert len(set(spread)) == len(spread)
    assert min(spread) < 30.0 < max(spread)


def test_thousands_of_attempts_do_not_overflow() -> None:
    backoff = Backoff(0.5, 10.0)
    assert all(0.5 <= d <= 10.0 for d in itertools.islice(backoff, 5000))


@pytest.mark.parametrize(("minimum", "maximum"), [(0.0, 1.0), (-1.0, 1.0), (2.0, 1.0)])
def test_bad_bounds_are_refused(minimum: float, maximum: float) -> None:
    with pytest.raises(ValueError, match="minimum <= maximum"):
        Backoff(minimum, maximum)
