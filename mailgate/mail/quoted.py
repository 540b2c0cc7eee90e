"""Cutting quoted history (replies and forwards) off the end of an item's text."""

from __future__ import annotations

import re

_DASHES = r"[-－‐–—―_=]"
#: "-----原始邮件-----", "-----Original Message-----", Foxmail's "------------------ 原始邮件 ----…".
_SEPARATOR = re.compile(
    rf"\s*(?:{_DASHES}\s*){{2,}}(?:原始邮件|原始郵件|original\s+message)(?:\s*{_DASHES}){{2,}}\s*",
    re.IGNORECASE,
)
#: The line of underscores Outlook puts above its header block.
_RULE = re.compile(rf"\s*{_DASHES}{{5,}}\s*")
_HEADER_FROM = re.compile(r"\s*(?:发件人|發件人|from)\s*[:：]", re.IGNORECASE)
_HEADER_SENT = re.compile(r"\s*(?:发送时间|發送時間|发送日期|發送日期|sent|日期|date)\s*[:：]", re.IGNORECASE)
_HEADER_REACH = 3
#: Attributions: "在 2004年1月8日 … 写道：", "张三 <x@y.cn> 于2004年1月8日 写道：", "On … wrote:".
#: They must name an address or a time (a digit), so that 正文 quoting a letter is not cut.
_WROTE_CN = re.compile(r"\s*(?:(?:在|于|於).*\d|.*@).*(?:写道|寫道)\s*[:：]\s*")
_WROTE_EN_START = re.compile(r"\s*On\s", re.IGNORECASE)
_WROTE_EN_END = re.compile(r".*\bwrote\s*[:：]\s*", re.IGNORECASE)
_EVIDENCE = re.compile(r"[\d@]")
#: Attribution lines are short; longer lines are 正文 and are not scanned for them.
_ATTRIBUTION_MAX = 300
_QUOTE = re.compile(r"\s*[>＞]")
#: The signature separator of RFC 3676 ("-- "); what follows is the mail client's sign-off.
_SIG_SEPARATOR = re.compile(r"-- ?")


def _is_blank(line: str) -> bool:
    return not line.strip()


def _outlook_header(lines: list[str], i: int) -> bool:
    """Whether line ``i`` starts a header block: 发件人/From, then a sent time within 3 lines."""
    if not _HEADER_FROM.match(lines[i]):
        return False
    return any(_HEADER_SENT.match(line) for line in lines[i + 1 : i + 1 + _HEADER_REACH])


def _english_attribution(lines: list[str], i: int) -> bool:
    """Whether line ``i`` says "On … wrote:", alone or wrapped onto the next line (long names)."""
    if not _WROTE_EN_START.match(lines[i]):
        return False
    for attribution in (lines[i], " ".join(lines[i : i + 2])):
        if _WROTE_EN_END.fullmatch(attribution) and _EVIDENCE.search(attribution):
            return True
    return False


def _attribution(lines: list[str], i: int) -> bool:
    """Whether line ``i`` is a "写道：" or "On … wrote:" line (they end in a colon, perhaps wrapped)."""
    line = lines[i]
    if len(line) > _ATTRIBUTION_MAX:
        return False
    if line.rstrip().endswith((":", "：")) and _WROTE_CN.fullmatch(line):
        return True
    return _english_attribution(lines, i)


def _first_marker(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if _SEPARATOR.fullmatch(line) or _SIG_SEPARATOR.fullmatch(line) or _attribution(lines, i):
            return i
        if _outlook_header(lines, i):
            above = i - 1
            while above >= 0 and _is_blank(lines[above]):
                above -= 1
            return above if above >= 0 and _RULE.fullmatch(lines[above]) else i
    return None


def _trailing_quote(lines: list[str]) -> int | None:
    """Where the run of ">" lines at the end of ``lines`` starts (blank lines may follow it)."""
    end = len(lines)
    while end > 0 and _is_blank(lines[end - 1]):
        end -= 1
    start = end
    while start > 0 and (_QUOTE.match(lines[start - 1]) or _is_blank(lines[start - 1])):
        start -= 1
    while start < end and _is_blank(lines[start]):
        start += 1
    return start if start < end else None


def strip_quoted(text: str) -> str:
    """``text`` without the quoted history that mail clients append below it.

    A forward with nothing written above it (a unit forwarding an item it wrote earlier) keeps
    the forwarded text, without the header block the client put on top of it."""
    lines = text.splitlines(keepends=True)
    bare = text.splitlines()
    cuts = [cut for cut in (_first_marker(bare), _trailing_quote(bare)) if cut is not None]
    if not cuts:
        return text
    kept = "".join(lines[: min(cuts)]).rstrip()
    if kept or min(cuts) != _first_marker(bare):
        return kept
    return _forwarded(lines, bare, min(cuts))


#: A header line of a forwarded block: 发件人/发送时间/收件人/抄送/主题 or their English forms.
_FORWARD_FIELD = re.compile(
    r"\s*(?:发件人|發件人|发送时间|發送時間|发送日期|日期|收件人|抄送|主题|主題|"
    r"from|sent|date|to|cc|subject)\s*[:：]",
    re.IGNORECASE,
)


def _forwarded(lines: list[str], bare: list[str], marker: int) -> str:
    """The text of a forwarded message whose history marker is at ``marker``: after its header block."""
    if _attribution(bare, marker) or _SIG_SEPARATOR.fullmatch(bare[marker]):
        return ""  # a reply or a signature with nothing above it: there is no item
    start = marker + 1 if not _HEADER_FROM.match(bare[marker]) else marker
    while start < len(bare) and (_FORWARD_FIELD.match(bare[start]) or _RULE.fullmatch(bare[start])):
        start += 1
    return strip_quoted("".join(lines[start:]).strip())
