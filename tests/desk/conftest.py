"""The desk fixture: a store on each backend with the test registry and a pipeline that files into it."""

from __future__ import annotations

import pytest

from desk.data import Desk
from mailgate.store import Store


@pytest.fixture
async def desk(store: Store) -> Desk:
    desk = Desk(store)
    await desk.start()
    return desk
