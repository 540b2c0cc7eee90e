"""OLE2 compound files: Word 97-2003 .doc/.wps text via the FIB and piece table, and encrypted OOXML."""

# How an OLE file is judged:
# - a "WordDocument" stream: Word 97-2003 binary (WPS Office's .wps too) -> DOC;
# - "EncryptionInfo" + "EncryptedPackage": a password-protected OOXML package -> DOCX + ENCRYPTED (an
#   encrypted .xlsx looks the same without the password; Word is by far the likelier attachment here);
# - anything else (Works .wps, .xls, .msg, ...) -> None;
# - an OLE file olefile cannot open, or opens with a damaged FAT/directory and no Word stream (truncated):
#   DOC + CORRUPT when a sector starts with a Word 97+ FIB or the stream name "WordDocument" is visible,
#   DOCX + CORRUPT when "EncryptedPackage" is,
#   else None (nothing left to tell it from a damaged .xls).
# Text: FIB -> CLX in the table stream -> piece table -> the first ccpText characters of the main document.
# Word 6/95 files (older FIB) are reported CORRUPT: that format has no piece table of this shape.
# Known limit: text deleted with track changes is still in a .doc's piece table and is not removed.

from __future__ import annotations

import io
import struct

import olefile

from mailgate.mail.model import WordKind, WordProblem, WordText

MAX_INPUT_BYTES = 30 * 1024 * 1024
MAX_TEXT_CHARS = 1_000_000  # ccpText above this is TOO_LARGE
MAX_PIECES = 100_000

_SECTOR = 512  # also the header's size; 4096-byte sectors are multiples of it
_MIN_OLE_SIZE = 1536  # olefile treats shorter bytes as a file name: never hand it those
_W_IDENT = 0xA5EC
_MIN_NFIB = 0x00C1  # Word 97
_F_ENCRYPTED = 0x0100
_F_WHICH_TBL_STM = 0x0200
_FC_COMPRESSED = 0x40000000
_FC_MASK = 0x3FFFFFFF
_CLX_PRC = 0x01
_CLX_PCDT = 0x02
_CLX_FCLCB_INDEX = 33  # fcClx/lcbClx pair in FibRgFcLcb97
_NAME_WORD = "WordDocument".encode("utf-16-le")
_NAME_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")

# [MS-DOC] 2.4.1: compressed (8-bit) text is Latin-1 except for these bytes.
_COMPRESSED_MAP = {
    0x82: 0x201A,
    0x83: 0x0192,
    0x84: 0x201E,
    0x85: 0x2026,
    0x86: 0x2020,
    0x87: 0x2021,
    0x88: 0x02C6,
    0x89: 0x2030,
    0x8A: 0x0160,
    0x8B: 0x2039,
    0x8C: 0x0152,
    0x91: 0x2018,
    0x92: 0x2019,
    0x93: 0x201C,
    0x94: 0x201D,
    0x95: 0x2022,
    0x96: 0x2013,
    0x97: 0x2014,
    0x98: 0x02DC,
    0x99: 0x2122,
    0x9A: 0x0161,
    0x9B: 0x203A,
    0x9C: 0x0153,
    0x9F: 0x0178,
}
# Word's special characters in the main text; other controls (pictures, footnote marks, ...) go.
_SPECIAL = {"\r": "\n", "\x0b": "\n", "\x0c": "\n", "\x0e": "\n", "\t": "\t", "\n": "\n", "\x1e": "-"}
_FIELD_BEGIN, _FIELD_SEPARATOR, _FIELD_END, _CELL_MARK = "\x13", "\x14", "\x15", "\x07"
_OLE_ERRORS = (OSError, ValueError, IndexError, KeyError, struct.error, EOFError)


class _CorruptError(Exception):
    """The FIB, CLX or piece table points outside the file or does not parse."""


class _TooLargeError(Exception):
    """The piece table has more pieces than MAX_PIECES."""


def _result(kind: WordKind, problem: WordProblem) -> WordText:
    return WordText(kind=kind, text=None, problem=problem)


def _claims_word(data: bytes) -> bool:
    """Whether a damaged OLE file still shows a Word FIB at a sector start, or the Word stream's name."""
    for offset in range(_SECTOR, len(data) - 4, _SECTOR):
        if _u16(data, offset) == _W_IDENT and _u16(data, offset + 2) >= _MIN_NFIB:
            return True
    return _NAME_WORD in data


def _u16(buf: bytes, offset: int) -> int:
    return int(struct.unpack_from("<H", buf, offset)[0])


def _u32(buf: bytes, offset: int) -> int:
    return int(struct.unpack_from("<I", buf, offset)[0])


def _slice(buf: bytes, start: int, length: int) -> bytes:
    if start < 0 or length < 0 or start + length > len(buf):
        raise _CorruptError
    return buf[start : start + length]


def _pieces(clx: bytes) -> list[tuple[int, int, int]]:
    """(cp start, cp end, fc) of each piece of the CLX's piece table."""
    pos = 0
    while pos < len(clx) and clx[pos] == _CLX_PRC:  # property modifiers: skipped
        pos += 3 + _u16(clx, pos + 1)
    if pos >= len(clx) or clx[pos] != _CLX_PCDT:
        raise _CorruptError
    plc = _slice(clx, pos + 5, _u32(clx, pos + 1))
    count, rest = divmod(len(plc) - 4, 12)  # n+1 CPs (4 bytes) and n PCDs (8 bytes)
    if count < 0 or rest:
        raise _CorruptError
    if count > MAX_PIECES:
        raise _TooLargeError
    cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
    pcd_base = 4 * (count + 1)
    return [(cps[i], cps[i + 1], _u32(plc, pcd_base + 8 * i + 2)) for i in range(count)]


def _main_text(word: bytes, table: bytes, fc_clx: int, lcb_clx: int, ccp_text: int) -> str:
    out: list[str] = []
    for cp_start, cp_end, fc in _pieces(_slice(table, fc_clx, lcb_clx)):
        if cp_end < cp_start:
            raise _CorruptError
        count = min(cp_end, ccp_text) - cp_start
        if count <= 0:
            continue
        if fc & _FC_COMPRESSED:
            raw = _slice(word, (fc & _FC_MASK) // 2, count)
            out.append(raw.decode("latin-1").translate(_COMPRESSED_MAP))
        else:
            out.append(_slice(word, fc & _FC_MASK, 2 * count).decode("utf-16-le", errors="replace"))
    return "".join(out)


def _clean(raw: str) -> str:
    """Word's marks to plain text: fields keep their result, cells become tabs, rows and paragraphs lines."""
    out: list[str] = []
    fields: list[bool] = []  # per open field: still in its code part
    in_code = 0
    previous = ""
    for ch in raw:
        if ch == _FIELD_BEGIN:
            fields.append(True)
            in_code += 1
        elif ch == _FIELD_SEPARATOR:
            if fields and fields[-1]:
                fields[-1] = False
                in_code -= 1
        elif ch == _FIELD_END:
            if fields and fields.pop():
                in_code -= 1
        elif in_code:
            pass
        elif ch == _CELL_MARK:
            if previous == _CELL_MARK:  # row end mark follows the last cell's mark
                if out and out[-1] == "\t":
                    out.pop()
                out.append("\n")
            else:
                out.append("\t")
        elif ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif ch >= " " and not "\x7f" <= ch <= "\x9f":
            out.append(ch)
        previous = ch
    return "".join(out)


def _read_word_stream(ole: olefile.OleFileIO) -> WordText:
    word = ole.openstream("WordDocument").read()
    if len(word) < 0x22 or _u16(word, 0) != _W_IDENT or _u16(word, 2) < _MIN_NFIB:
        raise _CorruptError
    flags = _u16(word, 0x0A)
    if flags & _F_ENCRYPTED:
        return _result(WordKind.DOC, WordProblem.ENCRYPTED)
    # FibBase (32 bytes), csw + fibRgW, cslw + fibRgLw, cbRgFcLcb + fibRgFcLcbBlob. With the usual
    # csw=14 and cslw=22 this puts ccpText at 0x4C and fcClx/lcbClx at 0x1A2/0x1A6.
    csw = _u16(word, 0x20)
    rg_lw = 0x22 + 2 * csw + 2
    cslw = _u16(word, rg_lw - 2)
    rg_fc_lcb = rg_lw + 4 * cslw + 2
    if cslw < 4 or _u16(word, rg_fc_lcb - 2) <= _CLX_FCLCB_INDEX:
        raise _CorruptError
    ccp_text = struct.unpack_from("<i", word, rg_lw + 12)[0]
    if ccp_text < 0:
        raise _CorruptError
    if ccp_text > MAX_TEXT_CHARS:
        return _result(WordKind.DOC, WordProblem.TOO_LARGE)
    fc_clx, lcb_clx = struct.unpack_from("<II", word, rg_fc_lcb + 8 * _CLX_FCLCB_INDEX)
    table_name = "1Table" if flags & _F_WHICH_TBL_STM else "0Table"
    if not ole.exists(table_name):
        raise _CorruptError
    table = ole.openstream(table_name).read()
    return WordText(kind=WordKind.DOC, text=_clean(_main_text(word, table, fc_clx, lcb_clx, ccp_text)))


def _damaged(data: bytes) -> WordText | None:
    """A damaged OLE file: CORRUPT of the kind its remains show, None when they show no Word."""
    if _claims_word(data):
        return _result(WordKind.DOC, WordProblem.CORRUPT)
    if _NAME_ENCRYPTED in data:
        return _result(WordKind.DOCX, WordProblem.CORRUPT)
    return None


def read_ole(data: bytes) -> WordText | None:
    """Text of an OLE file that is a Word document; None for other OLE files (``data`` has the OLE magic)."""
    if len(data) > MAX_INPUT_BYTES:
        return _result(WordKind.DOC, WordProblem.TOO_LARGE) if _claims_word(data) else None
    try:
        if len(data) < _MIN_OLE_SIZE:
            raise OSError("shorter than any OLE file")
        ole = olefile.OleFileIO(io.BytesIO(data))
    except _OLE_ERRORS:
        return _damaged(data)
    with ole:
        if ole.exists("WordDocument"):
            try:
                return _read_word_stream(ole)
            except _TooLargeError:
                return _result(WordKind.DOC, WordProblem.TOO_LARGE)
            except (_CorruptError, *_OLE_ERRORS):
                return _result(WordKind.DOC, WordProblem.CORRUPT)
        if ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage"):
            return _result(WordKind.DOCX, WordProblem.ENCRYPTED)
        damaged = bool(ole.parsing_issues)  # olefile went on past a broken FAT or directory
    return _damaged(data) if damaged else None
