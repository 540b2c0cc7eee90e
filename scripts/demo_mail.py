"""The demo's mail: the examples dated now (headers and 落款), and a line per reply written."""

from __future__ import annotations

import datetime as dt
import email
import email.utils
import re
import sys
from email import policy
from email.message import EmailMessage
from pathlib import Path

#: The units' time zone (China keeps no daylight saving time).
GUANGZHOU = dt.timezone(dt.timedelta(hours=8))
_SIGNED = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")
_RECEIVED_DATE = re.compile(r";[^;]*$")


def dated(raw: bytes, now: dt.datetime) -> bytes:
    """``raw`` as if written two minutes ago and delivered now: Date, Received and the 落款 date."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    local = now.astimezone(GUANGZHOU)
    if msg["Date"] is not None:
        msg.replace_header("Date", email.utils.format_datetime(local - dt.timedelta(minutes=2)))
    received = msg.get_all("Received") or []
    if received:
        del msg["Received"]
        stamp = email.utils.format_datetime(local)
        for value in received:
            msg["Received"] = _RECEIVED_DATE.sub(f"; {stamp}", str(value).replace("\n", " "))
    today = f"{local.year}年{local.month}月{local.day}日"
    for part in msg.walk():
        if part.get_content_maintype() == "text" and not part.is_attachment():
            charset = part.get_content_charset() or "utf-8"
            text = part.get_content()
            part.set_content(_SIGNED.sub(today, text), subtype=part.get_content_subtype(), charset=charset)
    return msg.as_bytes(policy=policy.SMTP)


def deliver(examples: Path, inbox: Path) -> None:
    """Copy every example into the Maildir ``inbox``'s new/ folder, dated now."""
    now = dt.datetime.now(dt.UTC)
    (inbox / "new").mkdir(parents=True, exist_ok=True)
    (inbox / "cur").mkdir(exist_ok=True)
    (inbox / "tmp").mkdir(exist_ok=True)
    for n, path in enumerate(sorted(examples.glob("*.eml")), 1):
        name = f"{int(now.timestamp())}.M{n}P0.demo-{path.stem}"
        (inbox / "new" / name).write_bytes(dated(path.read_bytes(), now))


def replies(outbox: Path) -> None:
    """One line per reply written: kind, recipient, subject."""
    files = sorted(outbox.glob("*.eml")) if outbox.is_dir() else []
    for path in files:
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        kind = str(msg.get("X-Mailgate-Verdict", "reply"))
        print(f"  {path.name}  {kind:<9} to {msg.get('To', '?')}  「{msg.get('Subject', '')}」")
    if not files:
        print("  (none)")


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "deliver":
        deliver(Path(argv[1]), Path(argv[2]))
        return 0
    if len(argv) == 2 and argv[0] == "replies":
        replies(Path(argv[1]))
        return 0
    print("usage: demo_mail.py deliver EXAMPLES INBOX | replies OUTBOX", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
