"""A replay that fails says why in its note without the message's content, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from messages import REGISTRY, submission

from desk.test_replay import WITHOUT_OFFICER, Desk
from mailgate.desk.replay import ReplayRef, apply
from mailgate.pipeline import Pipeline
from mailgate.store import Store


@pytest.fixture
async def desk(store: Store, tmp_path: Path) -> Desk:
    desk = Desk(tmp_path, store)
    await desk.registry(REGISTRY)
    return desk


@pytest.mark.parametrize(
    ("raised", "note"),
    [
        (
            UnicodeDecodeError("gbk", "机密正文".encode("gb18030") + b"\xff", 8, 9, "illegal"),
            "无法应用：UnicodeDecodeError",
        ),
        (RuntimeError("disk\r\non\x00fire " + "长" * 400), None),
    ],
    ids=["decode", "long-with-control-characters"],
)
async def test_a_replay_that_fails_notes_the_error_without_the_messages_content(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, raised: Exception, note: str | None
) -> None:
    await desk.registry(WITHOUT_OFFICER)
    desk.deliver(submission(1))
    await desk.run_once()
    await desk.registry(REGISTRY)
    rejected = await desk.message("1.test@th.gz.gov.cn")

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise raised

    monkeypatch.setattr(Pipeline, "file_item", broken)
    [done] = await apply(
        desk.store, desk.settings, [ReplayRef("message", rejected.id)], "ops1", send_replies=True
    )
    assert not done.applied
    if note is not None:
        assert done.note == note
    else:
        assert done.note.startswith("无法应用：RuntimeError: disk on fire 长")
        assert len(done.note) <= len("无法应用：RuntimeError: ") + 200
        assert done.note.isprintable()
