"""Raw 8-bit header fields (RFC 6532 UTF-8, or GBK sent without a charset) give clean, storable values."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailgate.mail.model import EncodingIssue, EncodingProblem, Submission
from mailgate.mail.parse import MAX_ADDRESS_CHARS, MAX_ID_BYTES, MAX_REFERENCES, parse_message

UNIT = "天河区"
BODY = b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + "标题\n正文\n".encode()
#: Fields whose values hold the body's lines: the only strings that may span lines.
MULTILINE = ("body", "parts", "word")


def strings(obj: object, path: str = "submission") -> Iterator[tuple[str, str]]:
    """Every string inside a Submission, with where it sits."""
    if isinstance(obj, str):
        yield path, obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from strings(getattr(obj, f.name), f"{path}.{f.name}")
    elif isinstance(obj, tuple | list):
        for i, item in enumerate(obj):
            yield from strings(item, f"{path}[{i}]")


def assert_clean(s: Submission) -> None:
    for path, value in strings(s):
        value.encode("utf-8")  # strict: a lone surrogate raises
        assert "\x00" not in value, path
        if not any(f".{name}" in path for name in MULTILINE):
            assert "\r" not in value, path
            assert "\n" not in value, path


def assert_storable(s: Submission) -> None:
    """The database driver takes every value (SQLite refuses lone surrogates with an exception)."""
    db = sqlite3.connect(":memory:")
    db.execute("create table t (path text, value text)")
    db.executemany("insert into t values (?, ?)", list(strings(s)))
    assert db.execute("select count(*) from t").fetchone()[0] > 0


def message(name: str, value: bytes) -> bytes:
    """A message with ``name: value`` and the other fields it needs, plain ASCII."""
    fields = {
        "From": b"<xxy@th.gz.gov.cn>",
        "Subject": b"[tianhe] title",
        "Message-ID": b"<1@th.gz.gov.cn>",
    }
    fields[name] = value
    head = b"".join(key.encode() + b": " + field + b"\r\n" for key, field in fields.items())
    return head + BODY


def utf8(text: str) -> bytes:
    return text.encode("utf-8")


def gbk(text: str) -> bytes:
    return text.encode("gbk")


HEADERS = ("Message-ID", "References", "In-Reply-To", "From", "Reply-To", "Subject")


@pytest.mark.parametrize("encode", [utf8, gbk], ids=["utf-8", "gbk"])
@pytest.mark.parametrize("name", HEADERS)
def test_raw_8bit_in_each_header_gives_clean_values(name: str, encode: object) -> None:
    assert callable(encode)
    value = b"<" + encode(f"{UNIT}办公室") + b"@th.gz.gov.cn>"
    if name in ("From", "Reply-To"):
        value = encode(f"{UNIT}政府办 ") + b"<xxy@th.gz.gov.cn>"
    s = parse_message(message(name, value))
    assert not any(d.startswith("parse_failed") for d in s.defects)
    assert_clean(s)
    assert_storable(s)


@pytest.mark.parametrize("name", ["Message-ID", "In-Reply-To"])
def test_raw_utf8_identifiers_are_decoded(name: str) -> None:
    s = parse_message(message(name, utf8(f"<{UNIT}.1@th.gz.gov.cn>")))
    found = s.message_id if name == "Message-ID" else s.in_reply_to
    assert found == f"{UNIT}.1@th.gz.gov.cn"
    assert s.encoding_issues == ()


def test_raw_utf8_references_are_decoded() -> None:
    s = parse_message(message("References", utf8(f"<a@b> <{UNIT}@th.gz.gov.cn>")))
    assert s.references == ("a@b", f"{UNIT}@th.gz.gov.cn")


def test_raw_gbk_identifiers_stay_distinct_and_match_each_other() -> None:
    """Bytes that are not UTF-8 are escaped, not replaced: two ids must not collide."""
    first = parse_message(message("Message-ID", b"<" + gbk("天河") + b"@x>"))
    second = parse_message(message("Message-ID", b"<" + gbk("越秀") + b"@x>"))
    assert first.message_id != second.message_id
    assert first.message_id is not None
    assert first.message_id.isascii()
    answer = parse_message(message("In-Reply-To", b"<" + gbk("天河") + b"@x>"))
    assert answer.in_reply_to == first.message_id
    references = parse_message(message("References", b"<" + gbk("天河") + b"@x>"))
    assert references.references == (first.message_id,)


def test_raw_utf8_from_is_accepted() -> None:
    s = parse_message(message("From", utf8(f"{UNIT}政府办 <xxy@th.gz.gov.cn>")))
    assert s.from_name == f"{UNIT}政府办"
    assert s.from_address == "xxy@th.gz.gov.cn"
    assert s.encoding_issues == ()


def test_raw_utf8_address_is_kept() -> None:
    s = parse_message(message("From", utf8("张三@天河.中国")))
    assert s.from_address == "张三@天河.中国"
    assert s.encoding_issues == ()


def test_raw_gbk_from_is_encoding() -> None:
    s = parse_message(message("From", gbk(f"{UNIT}政府办 ") + b"<xxy@th.gz.gov.cn>"))
    assert s.from_name == f"{UNIT}政府办"
    assert s.encoding_issues == (EncodingIssue("from", EncodingProblem.UNDECLARED_8BIT, "gb18030"),)


def test_raw_gbk_in_the_address_is_encoding_too() -> None:
    s = parse_message(message("From", gbk("张三") + b"@th.gz.gov.cn"))
    assert s.from_address == "张三@th.gz.gov.cn"
    assert {(i.part, i.problem) for i in s.encoding_issues} == {("from", EncodingProblem.UNDECLARED_8BIT)}


def test_raw_utf8_subject_is_accepted_and_gbk_is_encoding() -> None:
    accepted = parse_message(message("Subject", utf8(f"【{UNIT}】标题")))
    assert accepted.subject.identifier == UNIT
    assert accepted.encoding_issues == ()
    refused = parse_message(message("Subject", gbk(f"【{UNIT}】标题")))
    assert refused.subject.identifier == UNIT
    assert refused.encoding_issues == (EncodingIssue("subject", EncodingProblem.UNDECLARED_8BIT, "gb18030"),)


@pytest.mark.parametrize("name", ["Message-ID", "In-Reply-To", "References", "Reply-To"])
def test_raw_gbk_in_fields_nobody_reads_is_no_encoding_problem(name: str) -> None:
    s = parse_message(message(name, b"<" + gbk(UNIT) + b"@th.gz.gov.cn>"))
    assert s.encoding_issues == ()


def test_undecodable_bytes_in_the_subject_are_replaced() -> None:
    s = parse_message(message("Subject", b"\xff\xfe\x80\x81 title"))
    assert_clean(s)
    assert s.subject.raw.endswith("title")


def test_encoded_words_cannot_smuggle_line_breaks_or_nul() -> None:
    s = parse_message(message("Subject", b"=?utf-8?q?a=0D=0Abcc=3A_x=00y?="))
    assert s.subject.raw == "a bcc: xy"
    name = parse_message(message("From", b"=?utf-8?b?5byg5LiJDQpCY2M6IHg=?= <xxy@th.gz.gov.cn>"))
    assert name.from_name == "张三 Bcc: x"
    assert ("subject", "a bcc: xy") in s.headers


def test_long_identifiers_are_capped_and_stay_distinct() -> None:
    long_a = b"<" + b"a" * 5000 + b"@x>"
    long_b = b"<" + b"a" * 5000 + b"@y>"
    first = parse_message(message("Message-ID", long_a))
    second = parse_message(message("Message-ID", long_b))
    assert first.message_id is not None
    assert second.message_id is not None
    assert len(first.message_id.encode()) <= MAX_ID_BYTES
    assert first.message_id != second.message_id
    assert parse_message(message("In-Reply-To", long_a)).in_reply_to == first.message_id


def test_long_multibyte_identifier_is_capped_in_bytes() -> None:
    s = parse_message(message("Message-ID", b"<" + utf8("天" * 2000) + b"@x>"))
    assert s.message_id is not None
    assert len(s.message_id.encode("utf-8")) <= MAX_ID_BYTES


def test_ordinary_identifiers_are_left_alone() -> None:
    ident = "20040108095831.GA1234@mail.th.gz.gov.cn"
    assert parse_message(message("Message-ID", f"<{ident}>".encode())).message_id == ident


def test_references_keep_the_root_and_the_latest() -> None:
    refs = b" ".join(b"<%d@x>" % i for i in range(MAX_REFERENCES * 3))
    s = parse_message(message("References", refs))
    assert len(s.references) == MAX_REFERENCES
    assert s.references[0] == "0@x"
    assert s.references[-1] == f"{MAX_REFERENCES * 3 - 1}@x"


def test_an_overlong_from_address_is_no_address() -> None:
    s = parse_message(message("From", b"<" + b"a" * MAX_ADDRESS_CHARS + b"@x.cn>"))
    assert s.from_address is None
    assert "from_address_too_long" in s.defects


_NAMES = st.sampled_from(
    [
        b"Message-ID",
        b"References",
        b"In-Reply-To",
        b"From",
        b"Reply-To",
        b"Subject",
        b"Return-Path",
        b"Date",
        b"Content-Type",
        b"Content-Disposition",
        b"X-Note",
    ]
) | st.binary(min_size=1, max_size=12).filter(lambda b: b":" not in b and b"\n" not in b and b.strip())
_VALUES = st.binary(max_size=80) | st.lists(
    st.sampled_from(
        [
            b"<",
            b">",
            b"@",
            b"=?utf-8?q?",
            b"=?gbk?b?",
            b"?=",
            b"=0D=0A",
            b"=00",
            b" ",
            b"\r\n ",
            gbk(UNIT),
            utf8(UNIT),
            b"\xff",
            b"\x80",
            b'"',
            b"\x00",
            b";",
            b"filename*=gbk''",
        ]
    ),
    max_size=12,
).map(b"".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=st.lists(st.tuples(_NAMES, _VALUES), min_size=1, max_size=8), multipart=st.booleans())
def test_property_any_header_bytes_give_clean_strings(
    fields: list[tuple[bytes, bytes]], multipart: bool
) -> None:
    head = b"".join(name + b": " + value + b"\r\n" for name, value in fields)
    if multipart:
        # The same field values once more as an attachment's headers: file names and types come from them.
        part = b"".join(name + b": " + value + b"\r\n" for name, value in fields)
        raw = (
            head
            + b"Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n"
            + BODY
            + b'\r\n--zz\r\nContent-Disposition: attachment; filename="'
            + fields[0][1]
            + b'"\r\n'
            + part
            + b"\r\nx\r\n--zz--\r\n"
        )
    else:
        raw = head + b"\r\n" + "标题\n正文\n".encode()
    s = parse_message(raw)
    assert_clean(s)
    assert_storable(s)
