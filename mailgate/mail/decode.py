"""Charset decoding for mail: charset aliases, RFC 2047 headers, undeclared 8-bit and mojibake detection."""

from __future__ import annotations

import binascii
import codecs
import functools
import re
from dataclasses import dataclass

import charset_normalizer

from mailgate.mail.model import EncodingProblem

#: Charset names Chinese mail clients send, mapped to the codec that decodes them best.
_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        (
            "gb2312",
            "gbk",
            "cp936",
            "ms936",
            "windows-936",
            "euc-cn",
            "x-euc-cn",
            "x-gbk",
            "gb_2312-80",
            "gb2312-80",
            "gb_2312",
            "csgb2312",
            "chinese",
            "gb18030",
            "gb-18030",
            "x-gb18030",
        ),
        "gb18030",
    ),
    **dict.fromkeys(
        ("big5", "big-5", "cn-big5", "x-x-big5", "x-big5", "csbig5", "big5hkscs", "big5-hkscs"), "big5hkscs"
    ),
    **dict.fromkeys(("utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8"), "utf-8"),
}
#: Python codecs that are not charsets a message may declare.
_NOT_CHARSETS = frozenset(
    {"raw_unicode_escape", "unicode_escape", "idna", "punycode", "undefined", "utf-7", "charmap"}
)
#: More replacement characters than this many, or than this share of the text, make text undecodable.
_BAD_CHARS_ALLOWED = 2
_BAD_SHARE_ALLOWED = 0.01
_DETECT_LIMIT = 64 * 1024
_SHARE_SAMPLE = 4000
#: Bytes re-read from Latin-1 mojibake must give at least this share of everyday Chinese characters;
_LATIN_READABLE = 0.6
#: ... text below this share is suspect, and re-reading its bytes must gain this much to count as a repair.
_GARBLED = 0.75
_GAIN = 0.3

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_FOLD = re.compile(r"\r?\n(?=[ \t])|[\r\n]")
#: Latin-1 letters and symbols, and the Windows-1252 extras in 80-9F: what CJK bytes look like as Latin text.
_HIGH_LATIN = re.compile(
    r"[\u0080-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]"
)
_ESCAPED_BYTE = re.compile(r"[\udc80-\udcff]")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")
_QUESTION_RUN = re.compile(r"\?{2,}")
_WHITESPACE = re.compile(r"\s+")
#: A double-byte character with both bytes in A1-FE: most GB2312 and Big5 text is made of these.
_DOUBLE_BYTE = re.compile(rb"[\xa1-\xfe][\xa1-\xfe]")
_NOT_WIDE = frozenset(map(chr, range(128))) | frozenset("\u00a0\u3000\ufeff\u200b\u200c\u200d\u2028\u2029")
#: What a header value must not hold once decoded: lone surrogates, NUL, and line breaks.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_LINE_BREAK = re.compile(r"[\r\n]+")


@dataclass(frozen=True, slots=True)
class Decoded:
    """Decoded text and the encoding problems met, each as (problem, detail)."""

    text: str
    issues: tuple[tuple[EncodingProblem, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Mojibake:
    """Garbled text: how it was garbled and, when the garbling can be undone, the readable text."""

    detail: str
    repaired: str | None


@functools.lru_cache(maxsize=256)
def codec_for(charset: str | None) -> str | None:
    """The Python codec for a declared charset name, or None when the name is unknown."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    name = name.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*zh-cn
    if name in _ALIASES:
        return _ALIASES[name]
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    try:
        b"a".decode(info.name)  # raises LookupError for bytes-to-bytes codecs such as base64
    except LookupError:
        return None
    except UnicodeDecodeError:
        pass
    return None if info.name in _NOT_CHARSETS else info.name


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _too_many_bad(text: str) -> bool:
    bad = text.count("\ufffd")
    return bad > _BAD_CHARS_ALLOWED or bad > len(text) * _BAD_SHARE_ALLOWED


def _guess(data: bytes) -> str | None:
    """charset-normalizer's guess for ``data``, as a codec name."""
    try:
        best = charset_normalizer.from_bytes(data[:_DETECT_LIMIT]).best()
    except Exception:  # the detector must never break parsing
        return None
    return None if best is None else codec_for(best.encoding)


def _undeclared(data: bytes) -> tuple[str, str]:
    """Text and guessed charset for 8-bit bytes sent with no charset."""
    text = _strict(data, "utf-8")
    if text is not None:
        return text, "utf-8"
    guess = _guess(data)
    trusted = (guess,) if guess in ("gb18030", "big5hkscs") else ()
    found = _first_strict(data, (*trusted, "gb18030", *((guess,) if guess else ())))
    return (found[0], guess or found[1]) if found else (data.decode("gb18030", "replace"), guess or "unknown")


def _first_strict(data: bytes, candidates: tuple[str, ...]) -> tuple[str, str] | None:
    """The text and codec of the first candidate codec that decodes ``data`` without error."""
    for codec in candidates:
        text = _strict(data, codec)
        if text is not None:
            return text, codec
    return None


def decode_bytes(data: bytes, charset: str | None) -> Decoded:
    """Decode a body part's bytes under its declared charset (None when not declared)."""
    if not charset:
        if data.isascii():
            return Decoded(data.decode("ascii"))
        text, guess = _undeclared(data)
        return Decoded(text, ((EncodingProblem.UNDECLARED_8BIT, guess),))
    codec = codec_for(charset)
    if codec is None:
        found = _first_strict(data, ("utf-8", "gb18030"))
        text = found[0] if found else data.decode(_guess(data) or "utf-8", "replace")
        return Decoded(text, ((EncodingProblem.UNKNOWN_CHARSET, charset),))
    strict = _strict(data, codec)
    if strict is not None:
        return Decoded(strict)
    found = _first_strict(data, tuple(c for c in ("utf-8", "gb18030") if c != codec))
    if found is not None:
        return Decoded(found[0], ((EncodingProblem.MOJIBAKE, f"declared {charset}, content is {found[1]}"),))
    text = data.decode(codec, "replace")
    if _too_many_bad(text):
        return Decoded(text, ((EncodingProblem.UNDECODABLE, charset),))
    return Decoded(text)


def _b_decode(payload: str) -> bytes:
    clean = _NOT_BASE64.sub("", payload)
    clean = clean[: len(clean) - len(clean) % 4 if len(clean) % 4 == 1 else len(clean)]
    return binascii.a2b_base64(clean + "=" * (-len(clean) % 4))


def _q_decode(payload: str) -> bytes:
    return binascii.a2b_qp(payload.encode("ascii", "ignore"), header=True)


def scrub(text: str) -> str:
    """``text`` as one value safe to store: lone surrogates become U+FFFD, NULs go, line breaks a space."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        text = _SURROGATE.sub("\ufffd", text)
    if "\r" in text or "\n" in text:
        text = _LINE_BREAK.sub(" ", text)
    return text


def escaped_bytes(value: str) -> bytes:
    """The bytes behind a value the parser surrogate-escaped (real characters as UTF-8)."""
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that is not an escaped byte
        return value.encode("utf-8", "replace")


def _header_8bit(value: str) -> Decoded:
    """A header value holding raw 8-bit bytes (surrogate-escaped by the parser)."""
    data = escaped_bytes(value)
    text = _strict(data, "utf-8")
    if text is not None:  # RFC 6532 allows UTF-8 in headers
        return Decoded(text)
    for codec in ("gb18030", "big5hkscs"):
        if (text := _strict(data, codec)) is not None:
            return Decoded(text, ((EncodingProblem.UNDECLARED_8BIT, codec),))
    return Decoded(data.decode("gb18030", "replace"), ((EncodingProblem.UNDECLARED_8BIT, "unknown"),))


def _decode_words(value: str) -> Decoded:
    """Decode RFC 2047 encoded words, joining adjacent words of one charset before decoding."""
    chunks: list[tuple[str | None, str | bytes]] = []
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        if gap and not (gap.isspace() and chunks and chunks[-1][0] is not None):
            chunks.append((None, gap))
        charset, kind, payload = match.groups()
        data = _b_decode(payload) if kind in "bB" else _q_decode(payload)
        charset = charset.split("*", 1)[0].lower()
        last = chunks[-1] if chunks else None
        if last is not None and last[0] == charset and isinstance(last[1], bytes):
            chunks[-1] = (charset, last[1] + data)
        else:
            chunks.append((charset, data))
        pos = match.end()
    chunks.append((None, value[pos:]))
    texts: list[str] = []
    issues: list[tuple[EncodingProblem, str]] = []
    for charset, chunk in chunks:
        if isinstance(chunk, str):
            texts.append(chunk)
            continue
        decoded = decode_bytes(chunk, charset or "us-ascii")
        texts.append(decoded.text)
        issues.extend(i for i in decoded.issues if i not in issues)
    return Decoded("".join(texts), tuple(issues))


def decode_header(value: str) -> Decoded:
    """Unfold and decode a raw header value (RFC 2047 words, RFC 6532 UTF-8, undeclared 8-bit)."""
    if "\n" in value or "\r" in value:
        value = _FOLD.sub("", value)
    if "\t" in value or "\x00" in value:
        value = value.replace("\t", " ").replace("\x00", "")
    if value.isascii() and "=?" not in value and "??" not in value:
        return Decoded(value.strip())
    issues: tuple[tuple[EncodingProblem, str], ...] = ()
    if not value.isascii() and _ESCAPED_BYTE.search(value):
        first = _header_8bit(value)
        value, issues = first.text, first.issues
    if "=?" in value:
        words = _decode_words(value)
        value, issues = words.text, issues + words.issues
    value = scrub(value).strip()
    if not issues:
        found = find_mojibake(value)
        if found is not None:
            issues = ((EncodingProblem.MOJIBAKE, found.detail),)
            value = scrub(found.repaired).strip() if found.repaired is not None else value
    return Decoded(value, issues)


@functools.cache
def _common_chars() -> frozenset[str]:
    """Everyday characters: GB2312 (simplified) and Big5 level 1 (traditional), with their punctuation."""
    chars: set[str] = set()
    rows = [(lead, range(0xA1, 0xFF), "gb2312") for lead in range(0xA1, 0xF8)]
    rows += [(lead, range(0x40, 0xFF), "big5") for lead in range(0xA1, 0xC7)]
    for lead, trails, codec in rows:
        for trail in trails:
            try:
                chars.add(bytes((lead, trail)).decode(codec))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


@functools.cache
def _uncommon() -> re.Pattern[str]:
    """A pattern matching one character that is neither ASCII, white space nor everyday Chinese."""
    points = sorted(map(ord, _common_chars() | _NOT_WIDE))
    ranges: list[list[int]] = []
    for point in points:
        if ranges and point == ranges[-1][1] + 1:
            ranges[-1][1] = point
        else:
            ranges.append([point, point])
    return re.compile("[^" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]")


def _wide_count(text: str) -> int:
    return len(text) - len(text.encode("ascii", "ignore"))


def _readable_share(text: str) -> float:
    """Share of the non-ASCII characters in ``text`` that are everyday Chinese characters or punctuation."""
    sample = text[:_SHARE_SAMPLE]
    wide = _wide_count(sample)
    return 1 - len(_uncommon().findall(sample)) / wide if wide else 1.0


def _read_as_latin(text: str) -> Mojibake | None:
    """UTF-8, GBK or Big5 bytes that were decoded as Latin-1/Windows-1252 ("ÌìºÓÇø", "æˆ‘ä»¬")."""
    high = len(_HIGH_LATIN.findall(text))
    if high < 2:
        return None
    for codec in ("latin-1", "cp1252"):
        try:
            data = text.encode(codec)
        except UnicodeEncodeError:
            continue
        utf8 = _strict(data, "utf-8")
        if utf8 is not None:
            return Mojibake(f"utf-8 read as {codec}", utf8)
        if high < 0.3 * len(_WHITESPACE.sub("", text)) or len(_DOUBLE_BYTE.findall(data)) < 2:
            return None
        for source in ("gb18030", "big5hkscs"):
            repaired = _strict(data, source)
            if repaired is not None and _readable_share(repaired) >= _LATIN_READABLE:
                return Mojibake(f"{source} read as {codec}", repaired)
        return None
    return None


def _read_as_other_cjk(text: str) -> Mojibake | None:
    """UTF-8 bytes decoded as GBK ("鎴戜滑", "锟斤拷"), or Big5 and GBK bytes decoded as each other."""
    if "锟斤拷" in text:
        return Mojibake("utf-8 read as gb18030 (锟斤拷)", None)
    share = _readable_share(text)
    if _wide_count(text) < 2 or share >= _GARBLED:
        return None
    for shown in ("gb18030", "big5hkscs"):
        try:
            data = text.encode(shown)
        except UnicodeError:
            continue
        for source in ("utf-8", "gb18030", "big5hkscs"):
            if source == shown:
                continue
            repaired = _strict(data, source)
            if repaired is None or repaired.isascii():
                continue
            if _readable_share(repaired) >= share + _GAIN:
                return Mojibake(f"{source} read as {shown}", repaired)
    return None


def _question_marks(text: str) -> Mojibake | None:
    """Text typed as "?????" by a client that could not encode it."""
    if "??" not in text:
        return None
    marks = sum(len(run) for run in _QUESTION_RUN.findall(text))
    visible = len(_WHITESPACE.sub("", text))
    if marks >= 4 and marks >= 0.3 * visible:
        return Mojibake("text replaced by question marks", None)
    return None


def find_mojibake(text: str) -> Mojibake | None:
    """How ``text`` is garbled by a wrong charset somewhere on its way, or None when it reads normally."""
    if text.isascii():
        return _question_marks(text)
    return _read_as_latin(text) or _read_as_other_cjk(text) or _question_marks(text)
