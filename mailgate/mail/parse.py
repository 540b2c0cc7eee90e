"""From raw bytes to a Submission: MIME walking, charset decoding, HTML to text, attachments."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import hashlib
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import Message
from email.policy import compat32
from email.utils import parseaddr, parsedate_to_datetime

from mailgate.mail.decode import Decoded, decode_bytes, decode_header, escaped_bytes, find_mojibake, scrub
from mailgate.mail.html import html_to_text
from mailgate.mail.model import (
    Attachment,
    EncodingIssue,
    EncodingProblem,
    ItemParts,
    SubjectInfo,
    Submission,
)
from mailgate.mail.quoted import strip_quoted
from mailgate.mail.signature import split_item
from mailgate.mail.subject import parse_subject
from mailgate.mail.word import read_word

#: MIME containers nested deeper than this are not opened.
MAX_DEPTH = 20
#: MIME parts (containers included) beyond this many are ignored.
MAX_PARTS = 500
#: Header fields kept in Submission.headers, and the length each value is cut to.
MAX_HEADERS = 500
MAX_HEADER_CHARS = 8 * 1024
#: Message-IDs (and References, In-Reply-To, Return-Path) longer than this many UTF-8 bytes keep a
#: prefix and a digest of the whole, so that they stay distinct and fit the database's index.
MAX_ID_BYTES = 998
#: References beyond this many keep the thread root and the most recent ones.
MAX_REFERENCES = 100
#: A From address longer than this is no mailbox (RFC 5321 4.5.3.1.3: a path is at most 256 octets).
MAX_ADDRESS_CHARS = 254
#: How much of a too-large message is searched for the end of its header block.
MAX_HEADER_BLOCK = 512 * 1024
#: multipart/* and message/* Content-Type fields beyond this many are made opaque before the stdlib
#: parser sees them: its recursion would otherwise overflow on hostile nesting.
_MAX_CONTAINERS = 64
_MAX_DEFECTS = 100

#: A Content-Type or Content-Disposition field in lower-cased bytes; group 1 is set for containers.
_MIME_FIELD = re.compile(
    rb"\ncontent-(?:type:[ \t]*(?:\r?\n[ \t]+)?(multipart/|message/)|type:|disposition:)"
    rb"[^\n]*(?:\n[ \t][^\n]*)*"
)
_OPAQUE = b"Content-Type: application/octet-stream"
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_ADDR = r"[^<>\s\"(),;:\\@\[\]]+@[^<>\s\"(),;:\\@\[\]]+"
#: The usual From shapes, read without the full RFC 5322 parser: "Name" <addr>, Name <addr>, addr.
_SIMPLE_FROM = re.compile(rf"""\s*(?:"([^"\\]*)"|([^"<>,;:\\@()\[\]]*?))\s*<({_ADDR})>\s*|\s*({_ADDR})\s*""")
_ANGLE_ID = re.compile(r"<([^<>]*)>")
_FOLD = re.compile(r"[\r\n]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CID = re.compile(r"""cid:([^"'\s>)]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_WANTED = frozenset({"subject", "from", "date", "message-id", "in-reply-to", "references", "return-path"})


@dataclass(slots=True)
class _Leaf:
    """A non-container MIME part and where it sits."""

    part: Message
    content_type: str
    #: The id of its nearest multipart/alternative ancestor, or 0.
    alternative: int
    #: Content-Disposition: attachment, or a file name: never the body.
    attached: bool
    _text: Decoded | None = None

    def text(self) -> Decoded:
        """The part's text, decoded once: newlines normalised, BOM and NULs dropped."""
        if self._text is None:
            self._text = _part_text(self.part, self.content_type)
        return self._text


@dataclass(slots=True)
class _Headers:
    """Top-level header fields: all decoded (capped), and the first raw value of each wanted one."""

    fields: list[tuple[str, str]] = field(default_factory=list)
    first: dict[str, str] = field(default_factory=dict)
    decoded: dict[str, Decoded] = field(default_factory=dict)


def parse_message(raw: bytes, *, max_size: int | None = None, size: int | None = None) -> Submission:
    """Decode ``raw`` once into a Submission; never raises on any input.

    ``size`` is the message's real size when ``raw`` holds only part of it (a server gave only
    the headers of an oversized message). When ``max_size`` is given and the message is larger,
    only the headers are read and the result has ``truncated`` set and the real ``raw_size``."""
    try:
        real_size = max(size or 0, len(raw))
        if max_size is not None and real_size > max_size:
            headers_only = _from_headers(raw, _header_block(raw), truncated=True, defects=[])
            return dataclasses.replace(headers_only, raw_size=real_size)
        return _parse(raw)
    except Exception as exc:  # the contract is to never raise; keep what can be known
        defect = f"parse_failed: {type(exc).__name__}"
        try:
            return _from_headers(raw, _header_block(raw), truncated=False, defects=[defect])
        except Exception:
            return _bare(raw, defect)


def _bare(raw: bytes, defect: str) -> Submission:
    return Submission(
        raw_size=len(raw),
        content_hash=hashlib.sha256(raw).hexdigest(),
        message_id=None,
        from_address=None,
        from_name="",
        subject=SubjectInfo(raw="", identifier=None, title=""),
        date=None,
        in_reply_to=None,
        references=(),
        headers=(),
        return_path=None,
        body="",
        body_from_html=False,
        parts=ItemParts(title=None, main="", signature=None, source=None),
        attachments=(),
        defects=(defect,),
    )


def _header_block(raw: bytes) -> bytes:
    """The header block of ``raw``: everything before the first blank line, capped."""
    head = raw[:MAX_HEADER_BLOCK]
    end = _BLANK_LINE.search(head)
    return head[: end.start() + 1] if end else head


def _tame(raw: bytes, defects: list[str]) -> bytes:
    """``raw`` with MIME fields the stdlib parser would choke on cut down (long ones, deep nesting)."""
    lowered = b"\n" + raw.lower()  # one case-sensitive scan is much faster than an IGNORECASE one
    containers = 0
    edits: list[tuple[int, int, bytes]] = []
    for match in _MIME_FIELD.finditer(lowered):
        start, end = match.start(), match.end() - 1  # lowered[i] is raw[i - 1]
        end -= raw[end - 1 : end] == b"\r"  # keep the line ending
        if match.group(1) is not None:
            containers += 1
            if containers > _MAX_CONTAINERS:
                edits.append((start, end, _OPAQUE))
                defects.append("mime_nesting_capped")
                continue
        if end - start > MAX_HEADER_CHARS:
            edits.append((start, end, raw[start : start + MAX_HEADER_CHARS]))
            defects.append("mime_field_too_long")
    if not edits:
        return raw
    pieces: list[bytes] = []
    done = 0
    for start, end, replacement in edits:
        pieces += (raw[done:start], replacement)
        done = end
    pieces.append(raw[done:])
    return b"".join(pieces)


def _read_headers(msg: Message, defects: list[str]) -> _Headers:
    headers = _Headers()
    dropped = 0
    for name, value in msg.raw_items():
        key = scrub(name.strip().lower())
        wanted = key in _WANTED and key not in headers.first
        if len(headers.fields) >= MAX_HEADERS and not wanted:
            dropped += 1
            continue
        if len(value) > MAX_HEADER_CHARS:
            value = value[:MAX_HEADER_CHARS]
            defects.append(f"header_too_long: {key[:40]}")
        if wanted:
            headers.first[key] = value
        if len(headers.fields) < MAX_HEADERS:
            decoded = decode_header(value)
            headers.fields.append((key, decoded.text))
            if wanted:
                headers.decoded[key] = decoded
    if dropped:
        defects.append(f"too_many_headers: {dropped} dropped")
    return headers


def _decoded(headers: _Headers, key: str) -> Decoded | None:
    if key in headers.decoded:
        return headers.decoded[key]
    return decode_header(headers.first[key]) if key in headers.first else None


def _id_text(value: str) -> str:
    """A raw identifier field as text: UTF-8 decoded (RFC 6532), other bytes as ``\\xNN`` escapes.

    Identifiers are compared, not read: the escapes keep ids of different bytes distinct, where
    replacement characters would make them collide. Controls and line breaks become spaces."""
    text = value if value.isascii() else escaped_bytes(value).decode("utf-8", "backslashreplace")
    return _CONTROL.sub(" ", _FOLD.sub("", text))


def _cap_id(value: str) -> str:
    """``value``, or when it is longer than MAX_ID_BYTES a prefix of it and a digest of the whole."""
    data = value.encode("utf-8")
    if len(data) <= MAX_ID_BYTES:
        return value
    digest = hashlib.sha256(data).hexdigest()[:40]
    return data[: MAX_ID_BYTES - len(digest) - 1].decode("utf-8", "ignore") + "~" + digest


def _message_id(value: str | None) -> str | None:
    if value is None:
        return None
    value = _id_text(value)
    match = _ANGLE_ID.search(value)
    found = (match.group(1) if match else value).strip()
    return _cap_id(found) if found else None


def _references(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    value = _id_text(value)
    ids = [_cap_id(i) for i in (m.strip() for m in _ANGLE_ID.findall(value) or value.split()) if i]
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    return tuple(ids)


def _return_path(value: str | None) -> str | None:
    if value is None:
        return None
    value = _id_text(value)
    match = _ANGLE_ID.search(value)
    return _cap_id((match.group(1) if match else value).strip())


def _date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return date if date.tzinfo is not None else date.replace(tzinfo=dt.UTC)


def _issues(part: str, found: Iterable[tuple[EncodingProblem, str]]) -> list[EncodingIssue]:
    return [EncodingIssue(part, problem, detail) for problem, detail in found]


def _sender(headers: _Headers, defects: list[str]) -> tuple[str | None, str, list[EncodingIssue]]:
    """From address (lower-cased), display name and their encoding issues."""
    raw = headers.first.get("from")
    if raw is None:
        return None, "", []
    raw = raw.replace("\r", "").replace("\n", "")
    simple = _SIMPLE_FROM.fullmatch(raw)
    if simple:
        name, address = simple.group(1) or simple.group(2) or "", simple.group(3) or simple.group(4)
    else:
        name, address = parseaddr(raw)
    decoded_name = decode_header(name)
    decoded_address = decode_header(address) if address else Decoded("")
    issues = _issues("from", decoded_name.issues) + _issues("from", decoded_address.issues)
    address = decoded_address.text.lower()
    if len(address) > MAX_ADDRESS_CHARS:
        defects.append("from_address_too_long")
        address = ""
    return address or None, decoded_name.text, issues


def _from_headers(raw: bytes, block: bytes, *, truncated: bool, defects: list[str]) -> Submission:
    msg = email.message_from_bytes(block, policy=compat32)
    return _submission(raw, msg, defects, truncated=truncated, body=None)


@dataclass(frozen=True, slots=True)
class _Body:
    text: str
    from_html: bool
    issues: list[EncodingIssue]
    attachments: tuple[Attachment, ...]


def _submission(
    raw: bytes, msg: Message, defects: list[str], *, truncated: bool, body: _Body | None
) -> Submission:
    headers = _read_headers(msg, defects)
    subject = _decoded(headers, "subject") or Decoded("")
    address, name, from_issues = _sender(headers, defects)
    issues = _issues("subject", subject.issues) + from_issues + (body.issues if body else [])
    text = body.text if body else ""
    date = _decoded(headers, "date")
    return Submission(
        raw_size=len(raw),
        content_hash=hashlib.sha256(raw).hexdigest(),
        message_id=_message_id(headers.first.get("message-id")),
        from_address=address,
        from_name=name,
        subject=parse_subject(subject.text),
        date=_date(date.text if date else None),
        in_reply_to=_message_id(headers.first.get("in-reply-to")),
        references=_references(headers.first.get("references")),
        headers=tuple(headers.fields),
        return_path=_return_path(headers.first.get("return-path")),
        body=text,
        body_from_html=body.from_html if body else False,
        parts=split_item(text),
        attachments=body.attachments if body else (),
        encoding_issues=tuple(dict.fromkeys(issues)),
        truncated=truncated,
        defects=tuple(dict.fromkeys(defects))[:_MAX_DEFECTS],
    )


def _parse(raw: bytes) -> Submission:
    defects: list[str] = []
    msg = email.message_from_bytes(_tame(raw, defects), policy=compat32)
    leaves = _walk(msg, defects)
    body = _body(leaves)
    for leaf in leaves:  # decoding payloads (bad base64, ...) adds defects
        defects.extend(_defect_names(leaf.part))
    return _submission(raw, msg, defects, truncated=False, body=body)


def _defect_names(part: Message) -> list[str]:
    return [type(defect).__name__ for defect in getattr(part, "defects", ())]


def _walk(msg: Message, defects: list[str]) -> list[_Leaf]:
    """The leaf parts in document order, within the depth and part-count caps."""
    leaves: list[_Leaf] = []
    stack: list[tuple[Message, int, int]] = [(msg, 0, 0)]
    seen = 0
    while stack:
        part, depth, alternative = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            defects.append("too_many_parts")
            break
        defects.extend(_defect_names(part))
        content_type = scrub(part.get_content_type())
        maintype = content_type.partition("/")[0]
        if maintype == "multipart":
            children = part.get_payload()
            if not isinstance(children, list):
                defects.append("multipart_without_parts")
                continue
            if depth >= MAX_DEPTH:
                defects.append("mime_too_deep")
                continue
            if content_type == "multipart/alternative":
                alternative = seen
            stack.extend((c, depth + 1, alternative) for c in reversed(children) if isinstance(c, Message))
            continue
        attached = part.get_content_disposition() == "attachment" or _filename(part) is not None
        leaves.append(_Leaf(part, content_type, alternative, attached))
    return leaves


def _param(part: Message, name: str, header: str) -> str | None:
    """A parameter's decoded value: RFC 2231 (name*=, name*0*=), RFC 2047 words inside quotes, or plain."""
    value = part.get_param(name, None, header)
    if value is None:
        return None
    if isinstance(value, tuple):
        charset, _language, text = value
        data = text.encode("raw-unicode-escape")
        decoded = decode_bytes(data, charset or None) if charset or not data.isascii() else None
        text = decoded.text if decoded else data.decode("ascii")
        return decode_header(text).text or None
    return decode_header(str(value)).text or None


def _filename(part: Message) -> str | None:
    return _param(part, "filename", "content-disposition") or _param(part, "name", "content-type")


def _part_text(part: Message, content_type: str) -> Decoded:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = b""
    charset = part.get_content_charset()
    if not charset and content_type == "text/html":
        meta = _META_CHARSET.search(data[:4096])
        charset = meta.group(1).decode("ascii") if meta else None
    decoded = decode_bytes(data, charset)
    text = decoded.text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return Decoded(text.removeprefix("\ufeff"), decoded.issues)


def _content_id(part: Message) -> str | None:
    value = part.get("content-id")
    if not isinstance(value, str):
        return None
    return value.strip().strip("<>").strip().lower() or None


def _body(leaves: list[_Leaf]) -> _Body:
    """The body (first non-empty text/plain, else text/html as text), its issues and the attachments."""
    texts = [
        leaf for leaf in leaves if not leaf.attached and leaf.content_type in ("text/plain", "text/html")
    ]
    plain = (leaf for leaf in texts if leaf.content_type == "text/plain" and leaf.text().text.strip())
    chosen = next(plain, None)
    text = chosen.text().text if chosen else ""
    if chosen is None:
        for leaf in texts:
            if leaf.content_type == "text/html" and (converted := html_to_text(leaf.text().text)).strip():
                chosen, text = leaf, converted
                break
    if chosen is None and texts:
        chosen = texts[0]  # an empty body part is still the body, not an attachment
    issues = _issues("body", chosen.text().issues) if chosen else []
    text = _final_text(text, issues)
    kept = {id(chosen)}
    if chosen is not None and chosen.alternative:
        kept.update(id(leaf) for leaf in texts if leaf.alternative == chosen.alternative)
    from_html = chosen is not None and chosen.content_type == "text/html"
    return _Body(text, from_html, issues, _attachments(leaves, texts, kept))


def _final_text(text: str, issues: list[EncodingIssue]) -> str:
    """The body after mojibake repair and quoted history removal; mojibake found is added to ``issues``."""
    if issues:
        return strip_quoted(text)
    found = find_mojibake(text)
    if found is not None and found.repaired is not None:
        text = found.repaired
    body = strip_quoted(text)
    if found is None:
        found = find_mojibake(body)
        if found is not None and found.repaired is not None:
            body = found.repaired
    if found is not None:
        issues.append(EncodingIssue("body", EncodingProblem.MOJIBAKE, found.detail))
    return body


def _attachments(leaves: list[_Leaf], texts: list[_Leaf], kept: set[int]) -> tuple[Attachment, ...]:
    inline = _inline_ids(leaves, texts)
    found: list[Attachment] = []
    for leaf in leaves:
        if id(leaf) in kept:
            continue
        content_id = _content_id(leaf.part) if leaf.content_type.startswith("image/") else None
        if content_id is not None and content_id in inline:
            continue
        found.append(_attachment(leaf))
    return tuple(found)


def _inline_ids(leaves: list[_Leaf], texts: list[_Leaf]) -> set[str]:
    """The Content-IDs that the HTML parts reference with ``cid:`` URLs (lower-cased)."""
    if not any(leaf.content_type.startswith("image/") and "content-id" in leaf.part for leaf in leaves):
        return set()
    return {
        urllib.parse.unquote(ref).strip("<>").lower()
        for leaf in texts
        if leaf.content_type == "text/html"
        for ref in _CID.findall(leaf.text().text)
    }


def _attachment(leaf: _Leaf) -> Attachment:
    part = leaf.part
    filename = _filename(part)
    if leaf.content_type.startswith("message/"):
        return Attachment(filename, leaf.content_type, _flat_size(part), word=None)
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = b""
    return Attachment(filename, leaf.content_type, len(data), word=read_word(data) if data else None)


def _flat_size(part: Message) -> int:
    """The size of an attached message as it would be sent (0 when it cannot be flattened)."""
    payload = part.get_payload()
    items = payload if isinstance(payload, list) else [payload]
    try:
        return sum(
            len(i.as_bytes() if isinstance(i, Message) else str(i).encode("utf-8", "replace")) for i in items
        )
    except Exception:  # a message the generator cannot flatten still counts as present
        return 0
