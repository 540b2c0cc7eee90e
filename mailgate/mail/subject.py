"""The subject grammar: reply prefixes, 【標識】 and markers in any bracket style, then the title."""

from __future__ import annotations

from mailgate.mail.model import SubjectInfo


def parse_subject(subject: str) -> SubjectInfo:
    """Split a decoded subject into identifier, markers and title; never raises."""
    raise NotImplementedError
