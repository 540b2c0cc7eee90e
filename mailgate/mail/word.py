"""Word documents by content: .docx (OOXML) and Word 97-2003 .doc/.wps (OLE), text extracted safely."""

from __future__ import annotations

from mailgate.mail.model import WordText


def read_word(data: bytes) -> WordText | None:
    """The text of a Word document, or None when ``data`` is not a Word document at all.

    Never raises: encrypted or corrupt documents, and ones that exceed the decompression caps,
    come back with ``problem`` set and ``text`` None."""
    raise NotImplementedError
