"""Word documents by content: .docx (OOXML) and Word 97-2003 .doc/.wps (OLE), text extracted safely."""

# The magic number picks the reader; the file name is never looked at. ZIP files are judged in _docx, OLE
# files in _doc (see the notes there for what counts as Word, CORRUPT and TOO_LARGE). Both catch the errors
# their libraries are known to raise; the guard here turns anything else (a bug, MemoryError, recursion)
# into CORRUPT of the kind the magic suggests, so one bad attachment can never stop the mailbox.

from __future__ import annotations

from mailgate.mail._doc import read_ole
from mailgate.mail._docx import read_docx
from mailgate.mail.model import WordKind, WordProblem, WordText

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _tidy(text: str) -> str:
    """Trailing spaces off every line, blank lines off both ends; indentation (全角空格) is kept."""
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def read_word(data: bytes) -> WordText | None:
    """The text of a Word document, or None when ``data`` is not a Word document at all.

    Never raises: encrypted or corrupt documents, and ones that exceed the decompression caps,
    come back with ``problem`` set and ``text`` None."""
    if data.startswith(ZIP_MAGIC):
        reader, kind = read_docx, WordKind.DOCX
    elif data.startswith(OLE_MAGIC):
        reader, kind = read_ole, WordKind.DOC
    else:
        return None
    try:
        result = reader(data)
    except Exception:  # the final guard, see above
        return WordText(kind=kind, text=None, problem=WordProblem.CORRUPT)
    if result is None or result.text is None:
        return result
    return WordText(kind=result.kind, text=_tidy(result.text))
