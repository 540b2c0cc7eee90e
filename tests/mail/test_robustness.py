"""parse_message never raises: CPython's email test corpus, hostile inputs and generated messages."""

from __future__ import annotations

import sysconfig
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailgate.mail.model import Submission
from mailgate.mail.parse import MAX_DEPTH, MAX_PARTS, parse_message

CPYTHON_CORPUS = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"
CORPUS_FILES = sorted(CPYTHON_CORPUS.glob("msg_*.txt"))


def parsed(raw: bytes, **kwargs: int) -> Submission:
    s = parse_message(raw, **kwargs)
    assert isinstance(s, Submission)
    assert s.raw_size == len(raw)
    return s


def test_cpython_corpus_is_present() -> None:
    assert len(CORPUS_FILES) > 40


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_cpython_corpus_parses(path: Path) -> None:
    s = parsed(path.read_bytes())
    assert not any(d.startswith("parse_failed") for d in s.defects)


def _nested(levels: int, kind: str = "mixed") -> bytes:
    head = b"".join(
        b"Content-Type: multipart/%s; boundary=b%d\r\n\r\n--b%d\r\n" % (kind.encode(), i, i)
        for i in range(levels)
    )
    return b"Subject: deep\r\n" + head + b"Content-Type: text/plain\r\n\r\nhi\r\n"


def test_deep_multipart_nesting() -> None:
    started = time.perf_counter()
    s = parsed(_nested(10_000))
    assert time.perf_counter() - started < 5
    assert s.subject.raw == "deep"
    assert "mime_nesting_capped" in s.defects
    assert "mime_too_deep" in s.defects


def test_nesting_just_within_the_cap_reaches_the_body() -> None:
    assert parsed(_nested(MAX_DEPTH)).body.strip() == "hi"


def test_nesting_past_the_cap_is_ignored() -> None:
    s = parsed(_nested(MAX_DEPTH + 1))
    assert s.body == ""
    assert "mime_too_deep" in s.defects


def test_deep_message_rfc822_nesting() -> None:
    raw = b"Subject: outer\r\n" + b"Content-Type: message/rfc822\r\n\r\n" * 5000 + b"Subject: inner\r\n\r\nx"
    s = parsed(raw)
    assert s.subject.raw == "outer"


def test_too_many_parts() -> None:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(MAX_PARTS + 50))
    raw = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + parts + b"--b--\r\n"
    s = parsed(raw)
    assert "too_many_parts" in s.defects
    assert len(s.attachments) < MAX_PARTS


def test_one_megabyte_header_line_is_quick() -> None:
    started = time.perf_counter()
    s = parsed(b"Subject: " + b"a" * 1_000_000 + b"\r\n\r\nbody")
    assert time.perf_counter() - started < 2
    assert len(s.subject.raw) <= 8 * 1024


def test_one_megabyte_content_type_is_quick() -> None:
    raw = b"Content-Type: multipart/mixed" + b'; a="b' * 200_000 + b"\r\n\r\nbody"
    started = time.perf_counter()
    s = parsed(raw)
    assert time.perf_counter() - started < 2
    assert "mime_field_too_long" in s.defects


def test_long_content_type_is_cut_but_keeps_its_boundary() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b; x=" + b"y" * 20_000 + b"\r\n\r\n"
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + "正文".encode() + b"\r\n--b--\r\n"
    )
    s = parsed(raw)
    assert s.body.strip() == "正文"
    assert "mime_field_too_long" in s.defects


def test_containers_past_the_cap_become_opaque_leaves() -> None:
    raw = _nested(70, "related")
    s = parsed(raw)
    assert "mime_nesting_capped" in s.defects
    assert s.header("content-type") == "multipart/related; boundary=b0"


def test_hundred_thousand_headers() -> None:
    raw = b"".join(b"X-H%d: v\r\n" % i for i in range(100_000)) + b"Subject: s\r\n\r\nbody"
    s = parsed(raw)
    assert s.subject.raw == "s"
    assert len(s.headers) == 500


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\r\n",
        b"\x00" * 100,
        b"Subject: a\x00b\r\n\r\nbo\x00dy",
        bytes(range(256)) * 40,
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nnot closed",
        b"Content-Type: multipart/mixed\r\n\r\nno boundary at all",
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!*&^%$",
        b"Content-Type: text/plain; charset=x-klingon\r\n\r\n\xff\xfe",
        b"Content-Type: text/plain; charset=base64\r\n\r\nabc",
        b"Content-Type: text/plain; charset*=''%ff%fe\r\n\r\nabc",
        b"Content-Type: application/octet-stream; name*0*=utf-8''%E5%A4; name*1*=%A9\r\n\r\nx",
        b"Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 f\r\nbroken\r\n",
        b"Content-Disposition: attachment; filename==?gb2312?B?!!!?=\r\n\r\nx",
        b"From: <<<>>>@@@\r\nDate: Mon, 99 Foo 99999 99:99:99 +9999\r\nMessage-ID: <<>\r\n\r\n",
        b"From: =?utf-8?B?\xff\xfe?= <a@b>\r\nSubject: =?\xff?B?AAAA?=\r\n\r\n",
        b"Subject: =?utf-8?Q?=ZZ=?=\r\n\r\n",
        b" folded first line\r\nSubject: x\r\n\r\n",
        b"no colon header line\r\n\r\nbody",
        b"\r\n\r\n\r\nonly body",
    ],
)
def test_hostile_inputs(raw: bytes) -> None:
    parsed(raw)


def test_truncated_base64_attachment() -> None:
    raw = (
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b"--b\r\nContent-Type: application/msword\r\nContent-Transfer-Encoding: base64\r\n\r\n0M8R4KGx\r\nGu"
    )
    s = parsed(raw)
    assert len(s.attachments) == 1
    assert s.defects


def test_max_size_with_huge_header_block() -> None:
    raw = b"Subject: s\r\n" + b"X: " + b"y" * 2_000_000 + b"\r\n\r\nbody"
    s = parsed(raw, max_size=1000)
    assert s.truncated
    assert s.subject.raw == "s"


HEADER_NAMES = st.sampled_from(
    [
        "Subject",
        "From",
        "To",
        "Date",
        "Message-ID",
        "In-Reply-To",
        "References",
        "Return-Path",
        "Content-Type",
        "Content-Transfer-Encoding",
        "Content-Disposition",
        "Content-ID",
        "X-Mailer",
    ]
)
HEADER_VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "=?gb2312?B?zOy6077H?=",
            "=?utf-8?Q?=E5=A4=A9?=",
            "multipart/mixed; boundary=zz",
            "multipart/alternative; boundary=zz",
            "message/rfc822",
            'text/plain; charset="gb2312"',
            "text/html; charset=big5",
            "text/plain; charset=x-unknown",
            "base64",
            "quoted-printable",
            "attachment; filename*=utf-8''%E5%A4%A9.docx",
            "<a@b>",
            "<>",
        ]
    ),
)
BODY_LINES = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(["--zz", "--zz--", "", "5aSp5rKz5Yy6", "=E5=A4=A9=", "<p>天河</p>", "begin 644 x"]),
    ),
    max_size=20,
)


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=10))
    encoding = draw(st.sampled_from(["utf-8", "gb18030", "latin-1"]))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    body = "\r\n".join(draw(BODY_LINES))
    return (head + "\r\n" + body).encode(encoding, "replace")


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(messages())
def test_property_generated_messages_never_raise(raw: bytes) -> None:
    s = parsed(raw)
    assert not any(d.startswith("parse_failed") for d in s.defects)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000), st.one_of(st.none(), st.integers(min_value=0, max_value=3000)))
def test_property_random_bytes_never_raise(raw: bytes, max_size: int | None) -> None:
    s = parsed(raw) if max_size is None else parsed(raw, max_size=max_size)
    assert s.truncated == (max_size is not None and len(raw) > max_size)


@settings(max_examples=100, deadline=None)
@given(messages(), st.data())
def test_property_mutated_messages_never_raise(raw: bytes, data: st.DataObject) -> None:
    if raw:
        index = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
        raw = raw[:index] + data.draw(st.binary(min_size=1, max_size=8)) + raw[index + 1 :]
    parsed(raw)
