"""Desk test data: messages filed by the real pipeline, items inserted in bulk for volume."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import tomllib
from email.message import EmailMessage
from typing import Any

import docx
from messages import REGISTRY
from sqlalchemy import text, update

from mailgate.clock import FrozenClock
from mailgate.config import Settings
from mailgate.pipeline import MessageRef, Pipeline, Processed
from mailgate.registry import registry_from_mapping
from mailgate.replies import Replies
from mailgate.store import NewRevision, Store
from mailgate.store.models import Item
from mailgate.store.registry import load_registry, replace_registry
from rules import Inbox, default_rules

#: 2026-11-26 10:00 in Guangzhou: when the test messages arrive unless told otherwise.
ARRIVAL = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)

YUEXIU = {"sender": "xxk@yuexiu.gov.cn", "name": "越秀区政府办 李四", "identifier": "越秀区"}

YUEXIU_BODY = """{title}

越秀区今年完成老旧小区改造项目36个，惠及居民1.2万户。

作者单位：越秀区政府办
姓名：李四
联系电话：020-83001234
日期：{date}
"""


def docx_bytes(text: str) -> bytes:
    document = docx.Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def with_word(raw: bytes, text: str, name: str = "稿件.docx") -> bytes:
    """``raw`` with a Word document attached."""
    from email import message_from_bytes, policy

    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    msg.add_attachment(
        docx_bytes(text),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
        filename=name,
    )
    return msg.as_bytes()


class Desk:
    """The store, the pipeline that fills it, and shortcuts for bulk rows."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.settings = Settings()
        #: The desk's time: five minutes after the test messages arrive, unless a test moves it.
        self.clock = FrozenClock(ARRIVAL + dt.timedelta(minutes=5))
        self.pipeline: Pipeline | None = None
        self._keys = itertools.count(1)
        self._serial = itertools.count(1000)

    async def start(self) -> None:
        await replace_registry(self.store, registry_from_mapping(tomllib.loads(REGISTRY)))
        replies = Replies(sender=self.settings.replies.from_address)
        self.pipeline = Pipeline(
            self.store,
            await load_registry(self.store),
            self.settings,
            default_rules(),
            replies=replies,
            clock=self.clock,
        )

    async def file(
        self, raw: bytes, *, inbox: str = "daily", received_at: dt.datetime = ARRIVAL
    ) -> Processed:
        """Run ``raw`` through the pipeline as the daemon would."""
        assert self.pipeline is not None
        result = await self.pipeline.process(
            raw, inbox=Inbox(inbox), ref=MessageRef(inbox, f"key-{next(self._keys)}"), received_at=received_at
        )
        assert isinstance(result, Processed)
        return result

    async def accepted(self, raw: bytes, **kwargs: Any) -> int:
        """File ``raw``, which must be accepted; the item's id."""
        result = await self.file(raw, **kwargs)
        assert result.verdict.outcome.value == "accepted", result.verdict.findings
        assert result.item is not None
        return result.item.id

    async def bulk_items(
        self, count: int, *, unit: str = "天河区", at: dt.datetime = ARRIVAL, urgent_every: int = 0
    ) -> list[int]:
        """``count`` items filed through the repository, all at the same instant (ties on purpose)."""
        ids = []
        async with self.store.transaction() as repo:
            pk = await repo.add_message(_message(next(self._serial), at), at)
            for n in range(count):
                revision = NewRevision(
                    unit_id=unit,
                    title=f"批量信息第{n}号",
                    title_key=f"批量信息第{n}号",
                    inbox="daily",
                    urgent=bool(urgent_every) and n % urgent_every == 0,
                    commission_code=None,
                    body=f"批量正文内容编号{n}",
                    source=None,
                    attachment_name=None,
                    attachment_text=None,
                    body_zi=10,
                    attachment_zi=None,
                    counting="word",
                    officer=None,
                    author=None,
                    author_unit=None,
                    phone=None,
                    signed_on=None,
                )
                item = await repo.add_revision(
                    revision, message_pk=pk, revises=None, now=at, zone=self.settings.zone
                )
                ids.append(item.id)
        return ids

    async def set_times(self, item_id: int, when: dt.datetime) -> None:
        async with self.store.transaction() as repo:
            await repo.session.execute(
                update(Item).where(Item.id == item_id).values(created_at=when, updated_at=when)
            )

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        async with self.store.transaction() as repo:
            return list((await repo.session.execute(text(statement), params)).all())


def _message(n: int, at: dt.datetime) -> Any:
    from mailgate.store import NewMessage

    return NewMessage(
        mailbox="daily",
        uidvalidity=None,
        uid=None,
        source_key=f"bulk-{n}",
        message_id=f"bulk-{n}@test",
        content_hash=f"{n:064d}",
        size=100,
        from_address="xxy@th.gz.gov.cn",
        subject="批量",
        unit_id="天河区",
        received_at=at,
        verdict="accepted",
        findings=[],
        raw=None,
    )
