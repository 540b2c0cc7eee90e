"""Splitting an item's text into title, 正文 and 落款, and reading the 落款's fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mailgate.mail.dates import find_date
from mailgate.mail.folding import to_simplified
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

# The unlabelled 落款: unit, name, phone and date on bare lines at the end of the body.
#: At most this many lines at the end of the body are read as an unlabelled 落款, each this long at most.
_MAX_BARE_LINES = 6
_MAX_BARE_CHARS = 40
#: Surnames (Simplified): a bare name is two or three Han characters led by one of these, or three or
#: four led by a compound surname. Surnames that are everyday words (和, 时, 全, 区 ...) are left out.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿兰焦俞左柳甘祝包宁尚符舒阮柯纪"
    "梅童凌毕季裴霍涂成苗谷盛翁冉骆蓝游辛靳管柴蒙鲍喻祁蒲滕屈饶牟艾尤阳穆农卓古吉缪简麦褚娄窦戚岑"
    "费卜冷晏席卫柏宗瞿桂佟臧闵苟邬卞姬仇栾隋刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝谈匡鞠惠荆冀"
    "郁胥班储栗燕楚鄢劳谌奚粟冼蔺阚权帅屠朴廉禹祖漆卿狄宣晋扈晁芮阙浦戈鹿邸雍辜裘亓邰赫杭况逯茹诸"
    "慕亢嵇湛宾戎茅揭尉冶束檀昝衡尧"
)
_COMPOUND_SURNAMES = frozenset((
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
    "宇文", "司徒", "夏侯", "令狐", "端木", "西门", "南宫", "独孤", "轩辕", "钟离",
))  # fmt: skip
_HAN = r"[\u4e00-\u9fff]"
_NAME_SHAPE = re.compile(rf"{_HAN}{{2,4}}|{_HAN}{{1,4}}[·•・]{_HAN}{{1,8}}")
#: How a unit's name ends (Simplified): 政府, 办公室, 局, 中心, 街道 ...
_UNIT_END = re.compile(
    "(?:政府|中心|街道|公司|集团|学校|大学|中学|小学|医院|党委|党组|工委|办事处|银行|海关|监狱|社区|基地|报社|"
    "[办局委厅处科室院所站队部会镇乡区市县馆台社署组村园港场厂行司校])$"
)
#: Words of a sentence, not of a unit's name.
_NOT_IN_UNIT = re.compile("[在于由是了将把被从对向为的着过等说称要]")
#: What may stand around phone numbers on a phone line: labels without a colon, notes, separators.
_PHONE_WORDS = re.compile(
    "|".join(
        _label_pattern(word)
        for word in (
            "联系电话",
            "办公电话",
            "电话号码",
            "手机号码",
            "联系方式",
            "电话",
            "手机",
            "座机",
            "固话",
        )
    )
    + r"|\b(?:tel|mobile|phone)\b|[（(](?:办|宅|手机|手機|座机|座機|固话|固話|小灵通)[）)]|[:：/|]",
    re.IGNORECASE,
)
_DATE_WORDS = re.compile("|".join(map(_label_pattern, _LABELS["date"])) + "|[:：]")
_BARE_TOKENS = re.compile(r"[\s，,、；;]+")
#: A unit or name label written without its colon, before a space: "单位 天河区政府办公室", "姓名 张三".
_BARE_LABEL = re.compile(
    "|".join(f"(?P<{key}>{'|'.join(map(_label_pattern, _LABELS[key]))})" for key in ("unit", "name"))
)


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
    """Read a 落款 block (labelled lines, the one-line parenthesised form, or unlabelled lines)."""
    merged = _Fields()
    for line in block.splitlines():
        if line.strip() and (fields := _read_line(line) or _bare_date(line)) is not None:
            merged.merge(fields)
    lines = block.splitlines()
    bare = _bare_block(lines, 0, set())
    if bare is not None and len(bare.fields.core) > len(merged.core):
        return _signature(bare.fields)
    return _signature(merged) if merged.core else None


def _is_name(text: str) -> bool:
    """Whether ``text`` is shaped like a person's name: 张三, 欧阳明华, 阿不都·热合曼."""
    if _NAME_SHAPE.fullmatch(text) is None:
        return False
    simplified = to_simplified(text)
    if "·" in text or "•" in text or "・" in text:
        return True
    if simplified[:2] in _COMPOUND_SURNAMES:
        return 3 <= len(text) <= 4
    return simplified[0] in _SURNAMES and len(text) <= 3


def _is_unit(text: str) -> bool:
    """Whether ``text`` is shaped like a unit's name: it ends like one (办公室, 局, 街道 ...), has no digits
    and none of the words that make a sentence."""
    simplified = to_simplified(text)
    return (
        3 <= len(text) <= 30
        and _UNIT_END.search(simplified) is not None
        and _NOT_IN_UNIT.search(simplified) is None
        and not any(ch.isdigit() for ch in text)
    )


def _unit_and_name(tokens: list[str]) -> dict[str, str] | None:
    """Unit and/or name from the words of a bare line, or None when they are not shaped like either.

    One word: a unit, a name, or a unit with the name written right after it (天河区政府办张三);
    two words: a unit and a name, in either order; a two-character name spaced out (张　三) is one."""
    if len(tokens) == 2 and len(tokens[0]) == 1 == len(tokens[1]) and _is_name("".join(tokens)):
        return {"name": "".join(tokens)}
    if len(tokens) == 2 and (label := _BARE_LABEL.fullmatch(tokens[0])) is not None:
        key = label.lastgroup or ""
        return {key: tokens[1]} if len(tokens[1]) <= (30 if key == "unit" else 8) else None
    if len(tokens) == 1:
        word = tokens[0]
        if _is_unit(word):
            return {"unit": word}
        if _is_name(word):
            return {"name": word}
        for size in (2, 3, 4):
            if len(word) > size + 2 and _is_unit(word[:-size]) and _is_name(word[-size:]):
                return {"unit": word[:-size], "name": word[-size:]}
        return None
    if len(tokens) == 2:
        first, second = tokens
        if _is_unit(first) and _is_name(second):
            return {"unit": first, "name": second}
        if _is_name(first) and _is_unit(second):
            return {"unit": second, "name": first}
    return None


def _bare_line(line: str) -> _Fields | None:
    """The 落款 fields of one unlabelled line: a date alone, phones (with 电话 or 手机 and no colon
    allowed) and/or a unit and a name; None when the line is anything else, a sentence above all."""
    inner, _ = _unwrap(line)
    if not inner or len(inner) > _MAX_BARE_CHARS or _SENTENCE_END.search(inner):
        return None
    labelled = _read_line(line) or _bare_date(line)
    if labelled is not None:
        return labelled
    values: dict[str, str] = {}
    rest = inner
    if (found_date := find_date(rest)) is not None:
        values["date"] = found_date[1].group()
        rest = _DATE_WORDS.sub(" ", _mask(rest, found_date[1]))
    phones = list(iter_phones(rest))
    if phones:
        values["phone"] = "、".join(match.group().strip() for match in phones)
        for match in reversed(phones):
            rest = _mask(rest, match)
        rest = _PHONE_WORDS.sub(" ", rest)
    tokens = [token for token in _BARE_TOKENS.split(rest.strip(_VALUE_STRIP)) if token]
    if tokens:
        who = _unit_and_name(tokens)
        if who is None:
            return None
        values |= who
    if not values:
        return None
    return _Fields(values=values, stated=set(values), lines=[line])


def _bare_block(lines: list[str], start: int, skipped: set[int]) -> _Block | None:
    """An unlabelled 落款 closing ``lines[start:]``, or None.

    Read upwards from the last line (来源 lines and 完 aside): at most two lines of unit and name
    (together on one line or not), then, below them, the phone and/or date lines that anchor the
    block. A block needs an anchor and a unit or name that is not labelled; every line must be short,
    no sentence, and a field may not come twice (a second date is another 落款)."""
    indexes = [i for i in range(start, len(lines)) if lines[i].strip() and i not in skipped]
    while indexes and lines[indexes[-1]].strip() in _END_MARKS:
        indexes.pop()
    found: list[tuple[int, _Fields]] = []
    keys: set[str] = set()
    text_lines = 0
    for i in reversed(indexes[-_MAX_BARE_LINES:]):
        fields = _bare_line(lines[i])
        if fields is None:
            break
        anchor = bool({"phone", "date"} & fields.values.keys())
        if anchor and text_lines:
            break  # a phone or date above the unit and name belongs to something else
        if keys & fields.values.keys() - {"phone"} or (not anchor and text_lines == 2):
            if not anchor:
                return None  # a third unit or name line: a list of units or people, not a 落款
            break
        text_lines += not anchor
        keys |= fields.values.keys()
        found.append((i, fields))
    found.reverse()
    bare_text = any(not f.stated & {"unit", "name"} or _read_line(lines[i]) is None for i, f in found)
    if not found or not {"phone", "date"} & keys or not {"unit", "name"} & keys or not bare_text:
        return None
    merged = _Fields()
    for _, fields in found:
        if "phone" in fields.values and "phone" in merged.values:
            more = fields.values.pop("phone")  # a second phone line: both numbers, within a value's length
            if len(merged.values["phone"]) + len(more) < _MAX_VALUE:
                merged.values["phone"] += "、" + more
        merged.merge(fields)
    return _Block(merged, found[0][0], found[-1][0])


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
    bare = _bare_block(lines, title_at + 1, source_lines)
    # An unlabelled 落款 stands only where nothing was found before it (an earlier labelled 落款
    # makes the bare lines a sign-off), and only when it says more than what was found in it.
    if (
        bare is not None
        and all(block.first >= bare.first for block in blocks)
        and len(bare.fields.core) > max((len(block.fields.core) for block in blocks), default=0)
    ):
        blocks = [bare]
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
