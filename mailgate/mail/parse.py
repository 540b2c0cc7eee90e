"""From raw bytes to a Submission: MIME walking, charset decoding, HTML to text, attachments."""

from __future__ import annotations

from mailgate.mail.model import Submission


def parse_message(raw: bytes, *, max_size: int | None = None) -> Submission:
    """Decode ``raw`` once into a Submission; never raises on any input.

    When ``max_size`` is given and ``raw`` is larger, only the headers are read and the result
    has ``truncated`` set."""
    raise NotImplementedError
