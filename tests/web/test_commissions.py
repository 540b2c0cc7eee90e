"""Adding commissions at the desk: bad parts refused with 400 naming them, a code in use with 409, an outage
on the error page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from desk.data import Desk
from sqlalchemy import text

from mailgate.store.registry import commissions
from web.conftest import Client

MakeClient = Callable[[str | None], Awaitable[Client]]
FORM = {"code": "GZ2026-12", "topic": "年终工作总结", "deadline": "2026-12-20"}


@pytest.mark.parametrize(
    ("change", "label"),
    [
        ({"deadline": "0001-01-01T00:00"}, "截止时间"),  # before year 1 once in UTC
        ({"deadline": "9999-12-31T23:59-12:00"}, "截止时间"),  # after year 9999 once in UTC
        ({"deadline": "soon"}, "截止时间"),
        ({"deadline": ""}, "截止时间"),
        ({"topic": "年终\x00总结"}, "主题"),
        ({"topic": "年终\x1b[2J"}, "主题"),
        ({"topic": ""}, "主题"),
        ({"code": "GZ\x002026"}, "代码"),
        ({"code": "G" * 65}, "代码"),
    ],
)
async def test_a_part_the_store_cannot_hold_is_refused_with_400_naming_it(
    desk: Desk, client: MakeClient, change: dict[str, str], label: str
) -> None:
    admin = await client("admin")
    refused = await admin.post("/commissions", {**FORM, **change})
    assert refused.status_code == 400
    assert f"约稿未添加：{label}须" in refused.text
    assert "已存在" not in refused.text
    assert "服务器出错" not in refused.text
    assert await commissions(desk.store) == []


async def test_only_a_code_in_use_is_said_to_exist(desk: Desk, client: MakeClient) -> None:
    admin = await client("admin")
    assert (await admin.post("/commissions", FORM)).status_code == 303
    again = await admin.post("/commissions", {**FORM, "topic": "另一个"})
    assert again.status_code == 409
    assert "约稿未添加：代码 GZ2026-12 已存在" in again.text
    assert [c.topic for c in await commissions(desk.store)] == ["年终工作总结"]


async def test_a_failing_store_reaches_the_error_page_not_a_code_in_use(
    desk: Desk, client: MakeClient
) -> None:
    admin = await client("admin")
    async with desk.store.transaction() as repo:  # the table the commission goes to is gone
        await repo.session.execute(text("ALTER TABLE commissions RENAME TO commissions_gone"))
    response = await admin.post("/commissions", FORM)
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert "数据库暂时无法访问" in response.text
    assert "已存在" not in response.text
    assert "commissions" not in response.text  # nothing of the database's message
