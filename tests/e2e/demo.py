"""The browser tests' and screenshots' world: a store filled by the daemon, the desk served, Chromium."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from desk.data import with_word
from messages import submission
from playwright.sync_api import Browser, Page, Playwright
from sqlalchemy import select

from mailgate.app import build_daemon
from mailgate.config import Settings
from mailgate.daemon import Daemon
from mailgate.desk.users import create_user
from mailgate.registry import registry_from_mapping
from mailgate.store import Store
from mailgate.store.migrate import upgrade
from mailgate.store.models import Failure, Message
from mailgate.store.registry import replace_registry
from mailgate.web import create_app
from mailgate.web.server import web_server

GUANGZHOU = dt.timezone(dt.timedelta(hours=8))
PASSWORD = "desk demo password"
#: Debian's Chromium, headless, with nothing of its own going to the network.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: One user per role: username, role, display name.
USERS = (("editor", "editor", "陈静"), ("ops", "ops", "刘洋"), ("admin", "admin", "周敏"))

REGISTRY = """
[[units]]
id = "天河区"
name = "天河区人民政府办公室"
aliases = ["天河区政府办"]
series = "district"

[[units]]
id = "越秀区"
name = "越秀区人民政府办公室"
aliases = ["越秀区政府办"]
series = "district"

[[units]]
id = "海珠区"
name = "海珠区人民政府办公室"
aliases = ["海珠区政府办"]
series = "district"

[[units]]
id = "市统计局"
name = "广州市统计局"
aliases = ["统计局"]
series = "dept-a"

[[officers]]
email = "xxy@th.gz.gov.cn"
name = "张三"
unit = "天河区"
phone = "020-38622000"

[[officers]]
email = "xxk@yuexiu.gov.cn"
name = "李四"
unit = "越秀区"
phone = "020-83001234"

[[officers]]
email = "zhxx@tjj.gz.gov.cn"
name = "王五"
unit = "市统计局"
phone = "13800138000"
"""

#: The officer registered after his first message was rejected: replaying it files the item.
LATE_OFFICER = """
[[officers]]
email = "xxb@haizhu.gov.cn"
name = "赵六"
unit = "海珠区"
phone = "020-89001234"
"""

#: What the hostile message's HTML tries to do, and the marker a successful script would leave.
HOSTILE_HTML = (
    "<p>你好，<b>世界</b>：网页格式的稿件。</p>"
    "<script>alert(1)</script>"
    '<script>document.title = "pwned"; window.pwned = true;</script>'
    '<img src="x" onerror="alert(2)">'
    '<img src="https://tracker.example/pixel.png">'
    '<a href="javascript:alert(3)">点我查看</a>'
)

_UNITS = {
    "天河区": ("xxy@th.gz.gov.cn", "天河区政府办 张三", "天河区政府办", "张三", "020-38622000"),
    "越秀区": ("xxk@yuexiu.gov.cn", "越秀区政府办 李四", "越秀区政府办", "李四", "020-83001234"),
    "海珠区": ("xxb@haizhu.gov.cn", "海珠区政府办 赵六", "海珠区政府办", "赵六", "020-89001234"),
    "市统计局": ("zhxx@tjj.gz.gov.cn", "统计局 王五", "广州市统计局", "王五", "13800138000"),
}


@dataclass(frozen=True, slots=True)
class Demo:
    """The filled store and where to find its notable rows."""

    url: str
    revised_title: str
    urgent_title: str
    hostile_pk: int
    replayable_pk: int
    quarantined_id: int


class _Mail:
    """Submissions dated today in Guangzhou, from the demo units."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(GUANGZHOU).replace(microsecond=0)
        self.count = 0

    def item(self, unit: str, title: str, paragraph: str, *, markers: str = "", **kwargs: Any) -> bytes:
        sender, name, author_unit, officer, phone = _UNITS[unit]
        self.count += 1
        body = (
            f"{title}\n\n{paragraph}\n\n作者单位：{author_unit}\n姓名：{officer}\n联系电话：{phone}\n"
            f"日期：{self.now.year}年{self.now.month}月{self.now.day}日\n"
        )
        stamp = format_datetime(self.now)
        options: dict[str, Any] = {"sender": sender, "name": name, "identifier": unit, "body": body}
        return submission(
            self.count, title=title, markers=markers, date=stamp, received=stamp, **(options | kwargs)
        )

    def hostile(self) -> bytes:
        msg = EmailMessage()
        msg["From"] = "天河区政府办 张三 <xxy@th.gz.gov.cn>"
        msg["To"] = "inf@gzy.gov.cn"
        msg["Subject"] = "【天河区】网页格式稿件"
        msg["Message-ID"] = "<hostile@th.gz.gov.cn>"
        msg["Date"] = format_datetime(self.now)
        msg.set_content("网页格式的稿件，请看 HTML 部分。")
        msg.add_alternative(HOSTILE_HTML, subtype="html")
        return msg.as_bytes()


_SMART_CITY = "今年以来，天河区围绕智慧城市建设，新建5G基站1200个，政务服务事项网上办理率达到98%。"
_SMART_CITY_WORD = "一、信息基础设施：全区新建5G基站1200个。\n二、数字政府：政务服务事项网上办理率达到98%。"


async def _fill(root: Path, url: str) -> Demo:
    registry_file = root / "registry.toml"
    registry_file.write_text(REGISTRY, encoding="utf-8")
    settings = Settings(
        registry_file=registry_file,
        store={"url": url},
        source={"daily": root / "mail" / "daily", "commissioned": root / "mail" / "commissioned"},
        transport={"directory": root / "outbox"},
        processing={"max_attempts": 1},
    )
    mail = _Mail()
    new = root / "mail" / "daily" / "new"
    new.mkdir(parents=True)

    def deliver(name: str, raw: bytes) -> None:
        (new / name).write_bytes(raw)

    smart_city = "天河区推进智慧城市建设取得新进展"
    urgent = "越秀区全力应对今冬首轮寒潮"
    deliver("01", with_word(mail.item("天河区", smart_city, _SMART_CITY), _SMART_CITY_WORD))
    cold = "越秀区启动防寒应急预案，开放避寒场所12处，走访独居老人300余户。"
    deliver("02", mail.item("越秀区", urgent, cold, markers="【紧急】"))
    deliver(
        "03",
        mail.item(
            "市统计局",
            "前三季度全市规模以上工业增加值增长5.2%",
            "前三季度，全市规模以上工业增加值同比增长5.2%，增速比上半年提高0.4个百分点。",
        ),
    )
    deliver(
        "04",
        mail.item(
            "天河区",
            "天河区举办2026年科技创新大会",
            "天河区举办科技创新大会，发布支持科技企业发展措施10条，签约项目28个。",
        ),
    )
    deliver(
        "05",
        mail.item(
            "天河区", "越秀区老城区微改造完成", "越秀区完成老城区微改造项目15个。", identifier="越秀区"
        ),
    )
    deliver(
        "06",
        mail.item(
            "海珠区",
            "海珠区琶洲试验区新增数字经济企业120家",
            "今年以来，琶洲人工智能与数字经济试验区新增数字经济企业120家。",
        ),
    )
    deliver("07", mail.item("市统计局", "全市居民消费价格情况", "居民消费价格同比上涨。" * 60))
    deliver("08", mail.hostile())
    deliver(
        "09",
        mail.item("越秀区", "自动回复：收到", "您的邮件已收到。", headers={"Auto-Submitted": "auto-replied"}),
    )
    deliver(
        "10",
        mail.item(
            "天河区", "天河区冬季安全生产检查", "天河区开展冬季安全生产大检查。", headers={"X-Demo": "poison"}
        ),
    )

    store = Store(url)
    try:

        def poison(daemon: Daemon) -> None:
            real = daemon.pipeline.process

            async def process(raw: bytes, **kwargs: Any) -> Any:
                if b"X-Demo: poison" in raw:
                    raise RuntimeError("demo: the message cannot be processed")
                return await real(raw, **kwargs)

            daemon.pipeline.process = process  # type: ignore[method-assign]

        daemon = await build_daemon(settings, store)
        poison(daemon)
        await daemon.run(once=True)
        revised = _SMART_CITY.replace("1200个", "1500个").replace("98%", "99%")
        revised += "全区累计建成智慧社区40个。"
        word = _SMART_CITY_WORD.replace("1200个", "1500个").replace("98%", "99%")
        deliver("11", with_word(mail.item("天河区", smart_city, revised, markers="【修改稿】"), word))
        await (await build_daemon(settings, store)).run(once=True)
        # After the rejections, the registry gains the officer whose mail was refused: ops can replay it.
        await replace_registry(store, registry_from_mapping(tomllib.loads(REGISTRY + LATE_OFFICER)))
        for username, role, display_name in USERS:
            await create_user(store, username, PASSWORD, role, display_name)
        async with store.transaction() as repo:
            session = repo.session
            hostile = await session.scalar(select(Message.id).where(Message.message_id.contains("hostile@")))
            late = await session.scalar(select(Message.id).where(Message.from_address == "xxb@haizhu.gov.cn"))
            failure = await session.scalar(select(Failure.id).where(Failure.quarantined_at.is_not(None)))
    finally:
        await store.close()
    assert hostile is not None
    assert late is not None
    assert failure is not None
    return Demo(url, smart_city, urgent, hostile, late, failure)


def build(root: Path) -> Demo:
    """A migrated SQLite store under ``root`` filled by two runs of the daemon, with one user per role."""
    url = f"sqlite+aiosqlite:///{root / 'mailgate.db'}"
    upgrade(url)
    return asyncio.run(_fill(root, url))


@contextlib.contextmanager
def served(url: str) -> Iterator[str]:
    """The desk over the store at ``url``, served on a free loopback port in a thread; its base URL."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(64)
    port = listening.getsockname()[1]
    store = Store(url)
    app = create_app(Settings(store={"url": url}), store, secret_key=None, host="127.0.0.1")
    server = web_server(app, "127.0.0.1", port)

    async def serve() -> None:
        try:
            await server.serve(sockets=[listening])
        finally:
            await store.close()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="desk", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        listening.close()


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium (Playwright's own browsers are not used), with a fresh profile."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a person would."""
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
