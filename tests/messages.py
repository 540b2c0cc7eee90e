"""Building realistic submissions for tests that need many of them."""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage

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
BODY = """{title}

今年以来，天河区围绕智慧城市建设，新建5G基站1200个，政务服务事项网上办理率达到98%。

作者单位：天河区政府办
姓名：张三
联系电话：020-38622000
日期：2026年11月26日
"""


def submission(
    n: int = 1,
    *,
    title: str = TITLE,
    markers: str = "",
    sender: str = "xxy@th.gz.gov.cn",
    name: str = "天河区政府办 张三",
    identifier: str = "天河区",
    body: str | None = None,
    date: str = "Thu, 26 Nov 2026 09:58:00 +0800",
    received: str = "Thu, 26 Nov 2026 10:00:00 +0800",
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A valid item from 天河区 unless told otherwise; ``n`` makes the Message-ID unique."""
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
    msg.set_content(body if body is not None else BODY.format(title=title), charset="utf-8")
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
