"""DOCX (OOXML WordprocessingML) text, read from the main document part under size caps."""

# How a ZIP is judged:
# - it is Word when [Content_Types].xml names a WordprocessingML main part, or (no usable content types)
#   when it holds word/document.xml; any other ZIP (xlsx, pptx, odt, plain archives) is not Word: None;
# - it is a broken Word file (DOCX + CORRUPT) when the archive cannot be opened but its local file headers
#   name parts under word/ (a truncated upload), or when the main part is missing, unreadable or malformed;
# - TOO_LARGE when the input, the member count, the part's declared or actual size, its declared
#   compression ratio or the text extracted exceed the caps below. The part is decompressed in chunks into a
#   pull parser that keeps only the open elements, so a zip bomb or a huge part costs little memory.

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator

from lxml import etree

from mailgate.mail.model import WordKind, WordProblem, WordText

MAX_INPUT_BYTES = 30 * 1024 * 1024  # compressed input
MAX_MEMBERS = 1000  # entries in the archive
MAX_PART_BYTES = 20 * 1024 * 1024  # uncompressed main part, declared and actual
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
MAX_RATIO = 200  # declared uncompressed / compressed size of one part
MAX_TEXT_CHARS = 1_000_000  # extracted text
CHUNK = 64 * 1024

_LOCAL_HEADER = re.compile(rb"PK\x03\x04")
_MAX_LOCAL_HEADERS = 256
_EOCD = b"PK\x05\x06"
_MAIN_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
        "application/vnd.ms-word.document.macroenabled.main+xml",
        "application/vnd.ms-word.template.macroenabledtemplate.main+xml",
    }
)
_DEFAULT_MAIN = "word/document.xml"

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Elements whose whole content is not part of the current text: deletions, moved-away text, field codes,
# and the duplicate fallback rendering of drawings/text boxes.
_SKIP = frozenset({f"{_W}del", f"{_W}moveFrom", f"{_W}delText", f"{_W}instrText", _MC_FALLBACK})
_BREAKS = {f"{_W}tab": "\t", f"{_W}ptab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}

_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    zlib.error,
    ValueError,
    struct.error,
    NotImplementedError,
    RuntimeError,
)  # RuntimeError: zip-level password


class _StopError(Exception):
    """A cap was hit or the XML is not acceptable while streaming the part."""

    def __init__(self, problem: WordProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def _result(problem: WordProblem) -> WordText:
    return WordText(kind=WordKind.DOCX, text=None, problem=problem)


def _claims_word(data: bytes) -> bool:
    """Whether the local file headers name a part under word/ (readable even when the archive is cut)."""
    for n, match in enumerate(_LOCAL_HEADER.finditer(data)):
        if n >= _MAX_LOCAL_HEADERS:
            break
        start = match.start()
        if len(data) < start + 30:
            break
        name_len: int = struct.unpack_from("<H", data, start + 26)[0]
        if data[start + 30 : start + 30 + name_len].lower().startswith(b"word/"):
            return True
    return False


def _too_many_members(data: bytes) -> bool:
    """What the end-of-central-directory record declares, checked before zipfile builds its index."""
    pos = data.rfind(_EOCD, max(0, len(data) - 65_557))
    if pos < 0 or len(data) < pos + 22:
        return False  # zipfile will refuse it
    entries: int
    cd_size: int
    entries, cd_size = struct.unpack_from("<HI", data, pos + 10)
    return entries > MAX_MEMBERS or cd_size > MAX_MEMBERS * 1024


def _main_part(zf: zipfile.ZipFile) -> tuple[bool, zipfile.ZipInfo | None]:
    """Whether the package is Word, and its main part (None when the declared part is absent)."""
    members = {info.filename.lower(): info for info in zf.infolist()}
    types = members.get("[content_types].xml")
    if types is not None and types.file_size <= MAX_CONTENT_TYPES_BYTES:
        try:
            root = etree.fromstring(_read_member(zf, types, MAX_CONTENT_TYPES_BYTES), _safe_parser())
        except (etree.XMLSyntaxError, _StopError, *_ZIP_ERRORS):
            root = None  # fall back to the conventional name
        if root is not None and not _has_doctype(root):
            for override in root:
                if str(override.get("ContentType", "")).lower() in _MAIN_TYPES:
                    return True, members.get(str(override.get("PartName", "")).lstrip("/").lower())
    main = members.get(_DEFAULT_MAIN)
    return main is not None, main


def _has_doctype(el: etree._Element) -> bool:
    """A DOCTYPE (entity declarations, billion laughs, external DTDs) has no place in an OOXML part."""
    return el.getroottree().docinfo.internalDTD is not None


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def _safe_pull_parser() -> etree.XMLPullParser:
    return etree.XMLPullParser(
        events=("start", "end"), resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False
    )


def _chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> Iterator[bytes]:
    """The member's bytes in chunks; stops with TOO_LARGE as soon as more than ``cap`` came out."""
    total = 0
    with zf.open(info) as member:
        while chunk := member.read(CHUNK):
            total += len(chunk)
            if total > cap:
                raise _StopError(WordProblem.TOO_LARGE)
            yield chunk


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    return b"".join(_chunks(zf, info, cap))


class _TextBuilder:
    """Collects the visible text from start/end events of document.xml."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.skipping = 0  # depth inside elements in _SKIP

    def add(self, text: str) -> None:
        self.size += len(text)
        if self.size > MAX_TEXT_CHARS:
            raise _StopError(WordProblem.TOO_LARGE)
        self.parts.append(text)

    def start(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping += 1

    def end(self, el: etree._Element) -> None:
        tag = el.tag
        if tag in _SKIP:
            self.skipping -= 1
        elif self.skipping:
            pass
        elif tag == f"{_W}t" and el.text:
            self.add(el.text)
        elif tag in _BREAKS:
            self.add(_BREAKS[str(tag)])
        elif tag == f"{_W}p":
            self.add("\n")
        elif tag == f"{_W}tc":
            self._close(("\n",), "\t")
        elif tag == f"{_W}tr":
            self._close(("\t", "\n"), "\n")

    def _close(self, trailing: tuple[str, ...], mark: str) -> None:
        """End a cell or row: the separator replaces the last paragraph's (or cell's) one."""
        if self.parts and self.parts[-1] in trailing:
            self.parts.pop()
        self.add(mark)


def _consume(parser: etree.XMLPullParser, builder: _TextBuilder) -> None:
    for event, el in parser.read_events():
        if not isinstance(el, etree._Element):
            continue  # only start/end events were asked for: always elements
        parent = el.getparent()
        if event == "start":
            if parent is None and _has_doctype(el):
                raise _StopError(WordProblem.CORRUPT)
            builder.start(el.tag)
            continue
        builder.end(el)
        if parent is not None:
            parent.remove(el)  # keep only the open elements in memory


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    parser = _safe_pull_parser()
    builder = _TextBuilder()
    for chunk in _chunks(zf, info, MAX_PART_BYTES):
        parser.feed(chunk)
        _consume(parser, builder)
    parser.close()
    _consume(parser, builder)
    return "".join(builder.parts)


def read_docx(data: bytes) -> WordText | None:
    """Text of a ZIP that is a Word package; None for any other ZIP (``data`` starts with the ZIP magic)."""
    claims_word = _claims_word(data)
    if len(data) > MAX_INPUT_BYTES or _too_many_members(data):
        return _result(WordProblem.TOO_LARGE) if claims_word else None
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS:
        return _result(WordProblem.CORRUPT) if claims_word else None
    with zf:
        is_word, info = _main_part(zf)
        if not is_word:
            return None
        if info is None:
            return _result(WordProblem.CORRUPT)
        if len(zf.infolist()) > MAX_MEMBERS:
            return _result(WordProblem.TOO_LARGE)
        if info.file_size > MAX_PART_BYTES or info.file_size > MAX_RATIO * max(info.compress_size, 1):
            return _result(WordProblem.TOO_LARGE)
        try:
            text = _extract(zf, info)
        except _StopError as stop:
            return _result(stop.problem)
        except (etree.XMLSyntaxError, *_ZIP_ERRORS):
            return _result(WordProblem.CORRUPT)
    return WordText(kind=WordKind.DOCX, text=text)
