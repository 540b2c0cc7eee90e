"""Splitting an item's text into title, 正文 and 落款, and reading the 落款's fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mailgate.mail.dates import find_date
from mailgate.mail.model import ItemParts, Signature
from mailgate.mail.phones import is_valid_phone, iter_phones

_SP = "[ \t\u3000\u00a0]"
#: Traditional (and variant) forms of the label characters, so that labels match in either script.
_VARIANTS = {
    "单": "单單", "报": "报報", "联": "联聯", "系": "系繫係", "电": "电電", "话": "话話", "机": "机機",
    "时": "时時", "间": "间間", "来": "来來", "资": "资資", "码": "码碼", "号": "号號", "办": "办辦",
    "讯": "讯訊", "数": "数數", "据": "据據",
}  # fmt: skip
#: Label words by field, longest first; officers align them with spaces ("姓　　名：").
_LABELS = {
    "unit": ("作者单位", "报送单位", "供稿单位", "撰稿单位", "单位"),
    "name": ("撰稿人", "联系人", "报送人", "供稿人", "姓名", "作者"),
    "phone": ("联系电话", "办公电话", "电话号码", "手机号码", "联系方式", "通讯电话", "电话", "手机"),
    "date": ("报送日期", "报送时间", "日期", "时间"),
    "source": ("信息来源", "资料来源", "数据来源", "来源"),
}
_CORE = ("unit", "name", "phone", "date")


def _label_pattern(word: str) -> str:
    return f"{_SP}*".join(f"[{_VARIANTS[ch]}]" if ch in _VARIANTS else ch for ch in word)


#: A label starts the line or follows a space or a list separator, and is followed by a colon.
_LABEL = re.compile(
    r"(?:^|(?<=[\s，,；;、/|（(]))(?:"
    + "|".join(f"(?P<{key}>{'|'.join(map(_label_pattern, words))})" for key, words in _LABELS.items())
    + f"){_SP}*[:：]"
)
_SENTENCE_END = re.compile("[。！？!?]")
_TOKEN_SPLIT = re.compile(r"[\s，,、；;]+")
_VALUE_STRIP = " \t\u3000\u00a0，,；;、"
_OPEN, _CLOSE = "（(", "）)"
_MAX_VALUE = 60
_MAX_COMPACT = 100
_END_MARKS = frozenset(("完", "（完）", "(完)"))


@dataclass
class _Fields:
    """What one or more 落款 lines say: field → value as written, and which fields were stated."""

    values: dict[str, str] = field(default_factory=dict)
    #: Fields given by a label (or by the complete one-line form); a second one starts a new 落款.
    stated: set[str] = field(default_factory=set)
    lines: list[str] = field(default_factory=list)

    def merge(self, other: _Fields) -> None:
        for key, value in other.values.items():
            if key not in self.values or (key in other.stated and key not in self.stated):
                self.values[key] = value
        self.stated |= other.stated
        self.lines += other.lines

    @property
    def core(self) -> set[str]:
        return {key for key in _CORE if key in self.values}


def _unwrap(line: str) -> tuple[str, bool]:
    """The line without its enclosing parentheses, and whether it had an opening one."""
    text = line.strip()
    opened = text[:1] in _OPEN
    if opened:
        text = text[1:]
    if text[-1:] in _CLOSE and (opened or sum(map(text.count, _OPEN)) < sum(map(text.count, _CLOSE))):
        text = text[:-1]
    return text.strip(), opened


def _mask(text: str, match: re.Match[str]) -> str:
    return text[: match.start()] + " " * (match.end() - match.start()) + text[match.end() :]


def _read_line(line: str) -> _Fields | None:
    """The 落款 fields of one line, or None when the line is not part of a 落款.

    A labelled line starts with a label; several labels may share it. The one-line form
    "（天河区政府办 张三 电话：38622000 2004年1月8日）" gives unit and name as its first two
    tokens; it must be in parentheses or carry both a phone and a date."""
    inner, opened = _unwrap(line)
    labels = list(_LABEL.finditer(inner))
    labelled = bool(labels) and labels[0].start() == 0
    fields = _Fields(lines=[line])
    # ``masked`` blanks out what was found without a label, so that it is not also part of a
    # labelled value ("电话：38622000 2004年1月8日"); a date never counts as a phone.
    masked = undated = inner
    stated = {label.lastgroup for label in labels if label.lastgroup}
    if (found_date := find_date(inner)) is not None:
        undated = _mask(inner, found_date[1])
        if "date" not in stated:
            fields.values["date"] = found_date[1].group()
            masked = undated
    if "phone" not in stated and (phone := next(iter_phones(undated), None)) is not None:
        fields.values["phone"] = phone.group()
        masked = _mask(masked, phone)
    for k, label in enumerate(labels):
        end = labels[k + 1].start() if k + 1 < len(labels) else len(inner)
        key = label.lastgroup or ""
        raw = inner[label.end() : end]
        if key != "source" and (len(raw.strip()) > _MAX_VALUE or _SENTENCE_END.search(raw)):
            return None
        value = masked[label.end() : end].strip(_VALUE_STRIP)
        if value and key not in fields.stated:
            fields.values[key] = value
            fields.stated.add(key)
    if labelled:
        return fields
    tokens = _TOKEN_SPLIT.split(masked[: labels[0].start() if labels else len(masked)].strip())
    compact = (
        len([t for t in _TOKEN_SPLIT.split(inner) if t]) >= 2
        and len(inner) <= _MAX_COMPACT
        and not _SENTENCE_END.search(inner)
        and ("phone" in fields.values or "date" in fields.values)
        and (opened or fields.values.keys() >= {"phone", "date"})
    )
    if not compact:
        return None
    for key, token in zip(("unit", "name"), [t for t in tokens if t], strict=False):
        fields.values.setdefault(key, token)
    fields.stated |= fields.core
    return fields


def _bare_date(line: str) -> _Fields | None:
    """A line that is nothing but a date closes a 落款 whose date is still missing."""
    inner, _ = _unwrap(line)
    found = find_date(inner)
    if found is None or found[1].group() != inner:
        return None
    return _Fields(values={"date": inner}, stated={"date"}, lines=[line])


def _signature(fields: _Fields) -> Signature:
    phone = fields.values.get("phone")
    date_text = fields.values.get("date")
    found_date = find_date(date_text) if date_text else None
    return Signature(
        unit=fields.values.get("unit"),
        name=fields.values.get("name"),
        phone=phone,
        phone_valid=phone is not None and any(is_valid_phone(m.group()) for m in iter_phones(phone)),
        date=found_date[0] if found_date else None,
        date_text=date_text,
        raw="\n".join(fields.lines),
    )


def parse_signature(block: str) -> Signature | None:
    """Read a 落款 block (multi-line labelled form or the one-line parenthesised form)."""
    merged = _Fields()
    for line in block.splitlines():
        if line.strip() and (fields := _read_line(line) or _bare_date(line)) is not None:
            merged.merge(fields)
    return _signature(merged) if merged.core else None


@dataclass
class _Block:
    fields: _Fields
    first: int
    last: int


def _blocks(lines: list[str], start: int) -> tuple[list[_Block], set[int], list[str]]:
    """The 落款 blocks among ``lines[start:]``, the indexes of 來源-only lines, and the 來源 values.

    A block is a run of 落款 lines (blank and 來源 lines may sit between them); a field stated
    twice starts a new block. A block with fewer than two of unit/name/phone/date is kept only at
    the very end of the body: elsewhere it is a 正文 line that happens to start with a label."""
    blocks: list[_Block] = []
    source_lines: set[int] = set()
    sources: list[str] = []
    current: _Block | None = None
    for i in range(start, len(lines)):
        if not lines[i].strip():
            continue
        fields = _read_line(lines[i])
        if fields is None and current is not None and "date" not in current.fields.stated:
            fields = _bare_date(lines[i])
        if fields is None:
            current = None
            continue
        if "source" in fields.values:
            sources.append(fields.values["source"])
            if not fields.core:
                source_lines.add(i)
                continue
        if current is not None and not (current.fields.stated & fields.stated):
            current.fields.merge(fields)
            current.last = i
        else:
            current = _Block(fields, i, i)
            blocks.append(current)
    last_text = max(
        (i for i in range(start, len(lines)) if lines[i].strip() and i not in source_lines), default=-1
    )
    kept = [b for b in blocks if len(b.fields.core) >= 2 or b.last == last_text]
    return kept, source_lines, sources


def split_item(body: str) -> ItemParts:
    """Title (first non-empty line), 正文, the 落款 and 來源 of ``body``; never raises."""
    lines = body.splitlines()
    title_at = next((i for i, line in enumerate(lines) if line.strip()), None)
    if title_at is None:
        return ItemParts(title=None, main="", signature=None, source=None)
    blocks, source_lines, sources = _blocks(lines, title_at + 1)
    main_end = blocks[0].first if blocks else len(lines)
    main = [lines[i] for i in range(title_at + 1, main_end) if i not in source_lines]
    while main and not main[-1].strip():
        main.pop()
    while main and not main[0].strip():
        main.pop(0)
    trailing = []
    if blocks:
        trailing = [
            lines[i].strip()
            for i in range(blocks[0].last + 1, len(lines))
            if lines[i].strip() and i not in source_lines and lines[i].strip() not in _END_MARKS
        ]
    return ItemParts(
        title=lines[title_at].strip(),
        main="\n".join(main),
        signature=_signature(blocks[0].fields) if blocks else None,
        source="；".join(sources) or None,
        signature_count=len(blocks),
        trailing="\n".join(trailing),
    )
