"""What parsing makes of one raw message: the submission the rules examine."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


class WordKind(enum.StrEnum):
    """Word formats recognised by content."""

    DOCX = "docx"
    DOC = "doc"  # Word 97-2003 binary; WPS Office's .wps shares it


class WordProblem(enum.StrEnum):
    """Why a Word document's text could not be read."""

    ENCRYPTED = "encrypted"
    CORRUPT = "corrupt"
    TOO_LARGE = "too_large"  # a decompression or size cap was hit


@dataclass(frozen=True, slots=True)
class WordText:
    """The result of reading a Word document: its kind, and its text or the problem."""

    kind: WordKind
    text: str | None
    problem: WordProblem | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A non-inline MIME part: a file the sender attached."""

    filename: str | None
    content_type: str
    size: int
    #: Set when the content is a Word document (whatever the name says); None otherwise.
    word: WordText | None


@dataclass(frozen=True, slots=True)
class SubjectInfo:
    """The subject line's grammar: 【標識】 plus markers, then the title."""

    raw: str  # decoded subject, as sent
    identifier: str | None  # the 標識, as written (not folded)
    title: str  # the title after the brackets and reply/forward prefixes, stripped
    revision: bool = False  # 【修改稿】
    urgent: bool = False  # 【緊急】 or 【重大】
    commissioned: bool = False  # 【約稿】 or 【約稿:CODE】
    commission_code: str | None = None
    #: Bracketed tokens that were neither a known marker nor the (first) identifier.
    extra_brackets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Signature:
    """The 落款: who wrote the item, how to reach them, and when."""

    unit: str | None
    name: str | None
    phone: str | None  # as written
    phone_valid: bool
    date: dt.date | None
    date_text: str | None  # as written, also when it did not parse
    raw: str  # the lines the block was read from


@dataclass(frozen=True, slots=True)
class ItemParts:
    """The body split into the parts of one item."""

    title: str | None  # the first non-empty line
    main: str  # 正文: everything between the title line and the 落款
    signature: Signature | None  # the first 落款 found after the 正文
    source: str | None  # 來源：… if given
    #: Number of 落款 blocks found in all (more than one means more than one item).
    signature_count: int = 0
    #: Non-empty text after the first 落款 that is neither 來源 nor quoted history.
    trailing: str = ""


class EncodingProblem(enum.StrEnum):
    """Reasons a subject or body is not readable Chinese."""

    UNDECLARED_8BIT = "undeclared_8bit"  # raw 8-bit bytes with no charset declared
    UNKNOWN_CHARSET = "unknown_charset"  # a declared charset Python does not know
    UNDECODABLE = "undecodable"  # bytes invalid in the declared charset
    MOJIBAKE = "mojibake"  # decoded, but the text is garbled (wrong charset)


@dataclass(frozen=True, slots=True)
class EncodingIssue:
    """An encoding problem and where it is: ``part`` is ``"subject"``, ``"from"`` or ``"body"``."""

    part: str
    problem: EncodingProblem
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Submission:
    """Everything the rules need to know about one message, decoded once."""

    raw_size: int
    content_hash: str  # sha256 hex of the raw bytes
    message_id: str | None  # without angle brackets
    from_address: str | None  # lower-cased addr-spec
    from_name: str  # decoded display name, "" if none
    subject: SubjectInfo
    date: dt.datetime | None  # the Date header, timezone-aware, None if absent or unparseable
    in_reply_to: str | None
    references: tuple[str, ...]
    #: All header fields as (lower-cased name, decoded value), in order, for the cheap checks.
    headers: tuple[tuple[str, str], ...]
    return_path: str | None  # None when absent; "" for the null reverse-path <>
    body: str  # the item text after quoted history was cut off
    body_from_html: bool
    parts: ItemParts
    attachments: tuple[Attachment, ...]
    encoding_issues: tuple[EncodingIssue, ...] = ()
    #: True when the message was too large to parse and only headers were read.
    truncated: bool = False
    #: Structural problems met while parsing (MIME defects, nesting cut off, ...), for logs.
    defects: tuple[str, ...] = field(default_factory=tuple)

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        name = name.lower()
        return next((v for k, v in self.headers if k == name), None)

    def header_values(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k == name]
