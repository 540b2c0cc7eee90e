"""IMAP wire details for the IMAP source: UID sets, mailbox names, and parsing aioimaplib's response lines."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: A response as aioimaplib gives it: text lines as bytes, literal data as bytearray.
Lines = Sequence[bytes | bytearray]

_FETCH_START = re.compile(rb"^(?:\* )?\d+ FETCH \(")
_UID = re.compile(rb"[ (]UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')
_BODY_LITERAL = re.compile(rb"BODY\[(?:HEADER)?\] \{\d+\}$")
_SEARCH_LINE = re.compile(rb"[\d ]*")
_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_DATE = re.compile(r"\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


@dataclass(slots=True)
class FetchItem:
    """What one untagged FETCH response said about a message."""

    uid: int | None = None
    size: int | None = None
    internaldate: dt.datetime | None = None
    body: bytes | None = None


def uid_set(uids: Iterable[int]) -> str:
    """The UIDs as an IMAP sequence set with runs compressed: ``1:5,9,12:20``; ValueError when empty."""
    ordered = sorted(set(uids))
    if not ordered:
        raise ValueError("an IMAP UID set cannot be empty")
    parts: list[str] = []
    start = prev = ordered[0]
    for uid in [*ordered[1:], None]:
        if uid is not None and uid == prev + 1:
            prev = uid
            continue
        parts.append(str(start) if start == prev else f"{start}:{prev}")
        if uid is not None:
            start = prev = uid
    return ",".join(parts)


def mailbox_name(name: str) -> str:
    """A mailbox name as a quoted IMAP string, non-ASCII in modified UTF-7 (RFC 3501 5.1.3)."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            utf16 = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(utf16, b"+,").decode("ascii").rstrip("=") + "-")
            pending.clear()

    for char in name:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    encoded = "".join(out)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_search(lines: Lines) -> list[int]:
    """The UIDs of a SEARCH response (aioimaplib drops the ``* SEARCH`` prefix), ascending."""
    uids: set[int] = set()
    for line in lines[:-1]:  # the last line is the tagged completion text
        if isinstance(line, bytes) and _SEARCH_LINE.fullmatch(line):
            uids.update(int(word) for word in line.split())
    return sorted(uids)


def parse_uidvalidity(lines: Lines) -> int | None:
    """The UIDVALIDITY a SELECT response announced."""
    for line in lines:
        match = _UIDVALIDITY.search(line)
        if match:
            return int(match.group(1))
    return None


def parse_fetch(lines: Lines) -> dict[int, FetchItem]:
    """The messages of a UID FETCH response by UID: size, INTERNALDATE and the one body literal asked for.

    Responses without a UID (unsolicited flag updates) are dropped.
    """
    items: list[FetchItem] = []
    current: FetchItem | None = None
    literal_follows = False
    for line in lines:
        if isinstance(line, bytearray):
            if current is not None and literal_follows and current.body is None:
                current.body = bytes(line)
            literal_follows = False
            continue
        if _FETCH_START.match(line):
            current = FetchItem()
            items.append(current)
        elif current is None:
            continue
        _read_attributes(current, line)
        literal_follows = bool(_BODY_LITERAL.search(line))
    return {item.uid: item for item in items if item.uid is not None}


def parse_internaldate(text: str) -> dt.datetime | None:
    """An INTERNALDATE (``17-Jul-1996 02:44:25 -0700``) as an aware datetime; None if malformed."""
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    day, month, year, hour, minute, second, sign, off_h, off_m = match.groups()
    month_number = _MONTHS.get(month.lower())
    if month_number is None:
        return None
    offset = dt.timedelta(hours=int(off_h), minutes=int(off_m)) * (-1 if sign == "-" else 1)
    try:
        return dt.datetime(
            int(year), month_number, int(day), int(hour), int(minute), int(second), tzinfo=dt.timezone(offset)
        )
    except ValueError:
        return None


def response_text(lines: Lines) -> str:
    """The server's completion text of a response (its last line), for error messages."""
    if not lines or isinstance(lines[-1], bytearray):
        return ""
    return lines[-1].decode("utf-8", "replace")[:200]


def _read_attributes(item: FetchItem, line: bytes) -> None:
    if item.uid is None and (match := _UID.search(line)):
        item.uid = int(match.group(1))
    if item.size is None and (match := _SIZE.search(line)):
        item.size = int(match.group(1))
    if item.internaldate is None and (match := _INTERNALDATE.search(line)):
        item.internaldate = parse_internaldate(match.group(1).decode("ascii", "replace"))
