"""Full-text search: bigram terms, and the same searches on SQLite FTS5 and PostgreSQL full text."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from messages import submission
from sqlalchemy import insert, text

import mailgate.store
from desk.data import ARRIVAL, YUEXIU, YUEXIU_BODY, Desk, with_word
from mailgate.desk.queue import QueueFilter, list_queue
from mailgate.desk.search import MAX_QUERY_TERMS, fts_query, query_terms, terms, tsquery
from mailgate.store import Store
from mailgate.store.migrate import upgrade
from mailgate.store.models import Item, Message, Revision

HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)


def test_terms_are_bigrams_of_chinese_and_whole_words_folded() -> None:
    assert terms("天河區 GDP") == "天河 河区 gdp"
    assert terms("新建5G基站1200个") == "新建 5g 基站 1200 个"
    assert terms("ＧＤＰ增长") == "gdp 增长"  # full width folded
    assert terms("区") == "区"
    assert terms("「区」，市") == "区 市"  # a lone character between marks stands alone
    assert terms("Ünïcode İstanbul") == "ünïcode istanbul"
    assert terms("") == ""
    assert terms("，。！？") == ""


def test_query_terms_drop_every_operator() -> None:
    assert query_terms('" OR 1=1 --') == ["or", "1"]
    assert query_terms("a* NEAR(b c)") == ["a", "near", "b", "c"]
    assert query_terms("'; DROP TABLE items; --") == ["drop", "table", "items"]
    assert query_terms("天河区 & !越秀 | <-> :*") == ["天河", "河区", "越秀"]
    assert len(query_terms("很" * 500 + "长" * 500)) <= MAX_QUERY_TERMS


def test_query_text_quotes_each_term() -> None:
    assert tsquery(["天河", "gdp"]) == "'天河' & 'gdp'"
    assert tsquery(["it's", "a\\b"]) == "'it''s' & 'a\\\\b'"
    assert fts_query(["天河", "gdp"]) == '"天河" AND "gdp"'
    assert fts_query(['say "hi"']) == '"say ""hi"""'


@given(st.text())
def test_terms_hold_only_letters_and_digits(value: str) -> None:
    for term in terms(value).split(" "):
        assert term == "" or term.isalnum()
    assert all(t.isalnum() for t in query_terms(value))


@given(st.text(HAN, min_size=2, max_size=40), st.data())
def test_any_stretch_of_chinese_text_finds_the_text(value: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(value) - 2))
    end = data.draw(st.integers(start + 2, len(value)))
    assert set(query_terms(value[start:end])) <= set(terms(f"前言。{value}，结尾").split())


@given(st.text())
def test_terms_are_their_own_terms(value: str) -> None:
    once = terms(value)
    assert set(terms(once).split()) >= set(once.split())


async def _search(store: Store, query: str) -> list[str]:
    page = await list_queue(store, QueueFilter(text=query), limit=100)
    assert page.total == len(page.rows)
    return sorted(row.title for row in page.rows)


@pytest.fixture
async def filed(desk: Desk) -> Desk:
    await desk.accepted(submission(1))  # 天河区推进智慧城市建设取得新进展, "5G基站"
    body = YUEXIU_BODY.format(title="越秀區老城區微改造惠及萬戶居民", date="2026年11月26日")
    await desk.accepted(submission(2, title="越秀區老城區微改造惠及萬戶居民", body=body, **YUEXIU))
    gdp_body = (
        "天河区举办GDP核算培训\n\n区统计局组织各街道开展核算培训。\n\n作者单位：天河区政府办\n姓名：张三\n"
        "联系电话：020-38622000\n日期：2026年11月26日\n"
    )
    word = with_word(
        submission(3, title="天河区举办GDP核算培训", body=gdp_body), "培训邀请了统计局专家讲解核算方法。"
    )
    await desk.accepted(word)
    return desk


SMART = "天河区推进智慧城市建设取得新进展"
OLD_TOWN = "越秀區老城區微改造惠及萬戶居民"
GDP = "天河区举办GDP核算培训"


#: (query, titles found), the same on both backends.
CASES: list[tuple[str, list[str]]] = [
    ("老城区", [OLD_TOWN]),  # Simplified finds Traditional
    ("老城區", [OLD_TOWN]),  # and Traditional finds it too
    ("天河區", sorted([GDP, SMART])),
    ("智慧", [SMART]),  # two characters
    ("智慧城市 5G", [SMART]),  # terms are ANDed
    ("gdp", [GDP]),  # an ASCII word, any case
    ("Gdp", [GDP]),
    ("统计局专家", [GDP]),
    ("街道", [GDP]),  # the Word attachment's text
    ("政务服务", [SMART]),  # the 正文
    ("上海", []),
    ("智慧 上海", []),
    ("GD", []),  # words match whole
    ('" OR 1=1 --', []),
    ("' OR ''='", []),
    ("a* NEAR", []),
    ("智慧*", [SMART]),
    ("NEAR(智慧 城市)", []),
    ('"); DROP TABLE items; --', []),
    ("x'::tsquery", []),
]


async def test_search_on_each_backend(filed: Desk) -> None:
    found = [(query, await _search(filed.store, query)) for query, _ in CASES]
    assert found == CASES


async def test_a_query_of_only_punctuation_does_not_filter(filed: Desk) -> None:
    assert len(await _search(filed.store, "！？（）*")) == 3


async def test_a_revision_replaces_the_searchable_text(filed: Desk) -> None:
    revised = submission(
        9,
        markers="【修改稿】",
        body=f"{SMART}\n\n天河区新增充电桩800个。\n\n作者单位：天河区政府办\n姓名：张三\n"
        "联系电话：020-38622000\n日期：2026年11月26日\n",
    )
    await filed.accepted(revised)
    assert await _search(filed.store, "充电桩") == [SMART]
    assert await _search(filed.store, "政务服务") == []  # the first version's text is gone
    if filed.store.engine.dialect.name == "sqlite":  # one FTS row per item, in step
        rows = await filed.sql("SELECT count(*) FROM items_fts")
        assert rows[0][0] == 3


async def test_the_migration_indexes_items_filed_before_it(database_url: str) -> None:
    await asyncio.to_thread(upgrade, database_url, "0002")
    store = Store(database_url)
    try:
        async with store.transaction() as repo:
            message = Message(
                mailbox="daily",
                message_id="old@test",
                content_hash="0" * 64,
                size=1,
                subject="旧稿",
                received_at=ARRIVAL,
                processed_at=ARRIVAL,
                verdict="accepted",
                findings=[],
            )
            repo.session.add(message)
            await repo.session.flush()
            item = Item(
                tracking="20261126-000001",
                unit_id="天河区",
                title="旧稿标题",
                title_key="旧稿标题",
                inbox="daily",
                created_at=ARRIVAL,
                updated_at=ARRIVAL,
            )
            repo.session.add(item)
            await repo.session.flush()
            for number, body in ((1, "第一版正文讲公园"), (2, "第二版正文讲绿道")):
                # Only the columns of schema 0002: later columns of the model do not exist yet.
                await repo.session.execute(
                    insert(Revision).values(
                        item_id=item.id,
                        number=number,
                        message_pk=message.id,
                        title="旧稿標題",
                        body=body,
                        body_zi=8,
                        counting="word",
                        created_at=ARRIVAL,
                    )
                )
        await store.engine.dispose()
        await asyncio.to_thread(upgrade, database_url)
        assert await _search(store, "绿道") == ["旧稿标题"]
        assert await _search(store, "标题") == ["旧稿标题"]
        assert await _search(store, "公园") == []  # only the latest revision counts
        async with store.transaction() as repo:
            stored = await repo.session.scalar(text("SELECT search_text FROM items"))
        assert stored == terms("旧稿標題\n第二版正文讲绿道\n")
    finally:
        await store.close()


def test_the_store_knows_nothing_of_the_desk() -> None:
    package = Path(mailgate.store.__file__).parent
    for source in package.glob("*.py"):
        imported = re.findall(
            r"^\s*(?:from|import) (mailgate\.\w+)", source.read_text(encoding="utf-8"), re.M
        )
        assert not {"mailgate.desk", "mailgate.web", "mailgate.cli"} & set(imported), source.name
