"""Building realistic submissions for tests that need many of them."""

from __future__ import annotations

import datetime as dt
import email.utils
from email.headerregistry import Address
from email.message import EmailMessage

#: The moment the fixtures are dated at unless a test dates them relative to its own clock:
#: 2026-11-26 10:00 in Guangzhou.
FIXTURE_TIME = dt.datetime(2026, 11, 26, 2, 0, tzinfo=dt.UTC)
#: The units' time zone as the fixtures write it (China has no daylight saving time).
GUANGZHOU = dt.timezone(dt.timedelta(hours=8))

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
"""

TITLE = "天河区推进智慧城市建设取得新进展"
BODY_TEMPLATE = """{title}

今年以来，天河区围绕智慧城市建设，新建5G基站1200个，政务服务事项网上办理率达到98%。

作者单位：天河区政府办
姓名：张三
联系电话：020-38622000
日期：{signed}
"""
#: The body of a valid item signed on the fixtures' day; ``{title}`` is left to fill in.
BODY = BODY_TEMPLATE.replace("{signed}", "2026年11月26日")


def signed(at: dt.datetime) -> str:
    """The 落款 date of a message written at ``at``, as a unit writes it (2026年11月26日)."""
    local = at.astimezone(GUANGZHOU)
    return f"{local.year}年{local.month}月{local.day}日"


def stamp(at: dt.datetime) -> str:
    """``at`` as a Date or Received header writes it, in Guangzhou time."""
    return email.utils.format_datetime(at.astimezone(GUANGZHOU))


def submission(
    n: int = 1,
    *,
    title: str = TITLE,
    markers: str = "",
    sender: str = "xxy@th.gz.gov.cn",
    name: str = "天河区政府办 张三",
    identifier: str = "天河区",
    body: str | None = None,
    at: dt.datetime | None = None,
    date: str | None = None,
    received: str | None = None,
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A valid item from 天河区 unless told otherwise; ``n`` makes the Message-ID unique.

    It arrives (Received:) at ``at`` (default: the fixtures' time), was written two minutes before
    (Date:) and is signed that day; ``date`` and ``received`` override the headers."""
    at = at or FIXTURE_TIME
    received = received or stamp(at)
    date = date or stamp(at - dt.timedelta(minutes=2))
    msg = EmailMessage()
    msg["Received"] = f"from mail.th.gz.gov.cn by mx.gzy.gov.cn with ESMTP id {n}; {received}"
    msg["From"] = Address(name, addr_spec=sender)
    msg["To"] = "inf@gzy.gov.cn"
    msg["Subject"] = f"【{identifier}】{markers}{title}"
    msg["Date"] = date
    msg["Message-ID"] = f"<{n}.test@th.gz.gov.cn>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    for key, value in (headers or {}).items():
        msg[key] = value
    text = body if body is not None else BODY_TEMPLATE.format(title=title, signed=signed(at))
    msg.set_content(text, charset="utf-8")
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
