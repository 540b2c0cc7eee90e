"""The subject grammar: reply prefixes, 【標識】 and markers in any bracket style, then the title."""

from __future__ import annotations

import re

from mailgate.mail.folding import fold
from mailgate.mail.model import SubjectInfo

#: Reply and forward prefixes mail clients add, in any mix and number, each with a colon; also the
#: 回执：/退稿通知： of mailgate's own notices, which a unit's reply to one keeps.
_PREFIXES = re.compile(
    r"(?:\s*(?:回复|回復|回覆|答复|答復|答覆|转发|轉發|回执|回執|退稿通知|re|fw|fwd)(?:\[\d+\])?\s*[:：])+\s*",
    re.IGNORECASE,
)
#: The tracking number a receipt's subject ends with: "（编号 20261126-000042）".
_TRACKING = re.compile(r"\s*[（(]\s*(?:编号|編號)\s*[\d-]+\s*[）)]\s*$")
_OPEN = "【[〔［"
_CLOSE = "】]〕］"
#: One bracketed token; any opening bracket may be closed by any closing one (【越秀區] is a slip).
_TOKEN = re.compile(
    rf"\s*[{re.escape(_OPEN)}](?P<token>[^{re.escape(_OPEN + _CLOSE)}]*)[{re.escape(_CLOSE)}]"
)
_COLON = re.compile(r"^[\s:：\-－]+")
#: A commission code is at most this long (as editors create them); a longer one is cut to it.
MAX_CODE_CHARS = 64

#: Markers as ``fold`` leaves them (Simplified, no punctuation), compared against folded tokens.
_REVISION = "修改稿"
_URGENT = frozenset(("紧急", "重大"))
_COMMISSION = "约稿"


def parse_subject(subject: str) -> SubjectInfo:
    """Split a decoded subject into identifier, markers and title; never raises."""
    prefix = _PREFIXES.match(subject)
    pos = prefix.end() if prefix else 0
    identifier: str | None = None
    revision = urgent = commissioned = False
    code: str | None = None
    extra: list[str] = []
    while (bracket := _TOKEN.match(subject, pos)) is not None:
        pos = bracket.end()
        token = bracket["token"].strip()
        key = fold(token)
        if key == _REVISION:
            revision = True
        elif key in _URGENT:
            urgent = True
        elif fold(token[:2]) == _COMMISSION:
            commissioned = True
            code = code or _COLON.sub("", token[2:]).strip()[:MAX_CODE_CHARS].strip() or None
        elif identifier is None and token:
            identifier = token
        else:
            extra.append(token)
    return SubjectInfo(
        raw=subject,
        identifier=identifier,
        title=_TRACKING.sub("", subject[pos:]).strip(),
        revision=revision,
        urgent=urgent,
        commissioned=commissioned,
        commission_code=code,
        extra_brackets=tuple(extra),
    )
