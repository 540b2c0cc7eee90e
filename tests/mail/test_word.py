"""read_word: real LibreOffice files, hostile archives and XML, damaged OLE files, and arbitrary bytes."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import olefile
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailgate.mail import _doc, _docx
from mailgate.mail.model import WordKind, WordProblem, WordText
from mailgate.mail.word import OLE_MAGIC, ZIP_MAGIC, read_word

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "word"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MAIN_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
CLOSING = "以上情况，特此报告。"
TOO_LARGE_DOCX = WordText(kind=WordKind.DOCX, text=None, problem=WordProblem.TOO_LARGE)
TOO_LARGE_DOC = WordText(kind=WordKind.DOC, text=None, problem=WordProblem.TOO_LARGE)
FIRST = "市政府办公厅新闻信息处近日召开全市政务信息工作会议，部署今年信息报送的重点任务。"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def visible(text: str) -> int:
    return sum(1 for c in text if not c.isspace())


def content_types(part: str = "/word/document.xml", content_type: str = MAIN_TYPE) -> str:
    return (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Override PartName="{part}" ContentType="{content_type}"/></Types>'
    )


def document(body: str) -> str:
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    return f'{head}<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'


def make_zip(members: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buf.getvalue()


def make_docx(body: str) -> bytes:
    return make_zip({"[Content_Types].xml": content_types(), "word/document.xml": document(body)})


def peak_memory(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- real files written by LibreOffice ---------------------------------------------------------------------

ITEMS = [
    # name, kind, chars, 字, title line
    ("short.docx", WordKind.DOCX, 324, 320, "短稿：全市政务信息工作会议召开"),
    ("short.doc", WordKind.DOC, 324, 320, "短稿：全市政务信息工作会议召开"),
    ("short.wps", WordKind.DOC, 324, 320, "短稿：全市政务信息工作会议召开"),
    ("mid.docx", WordKind.DOCX, 3932, 3901, "中稿：全市政务信息工作情况汇报"),
    ("mid.doc", WordKind.DOC, 3932, 3901, "中稿：全市政务信息工作情况汇报"),
    ("long.docx", WordKind.DOCX, 4139, 4106, "长稿：全市政务信息工作情况详细汇报"),
    ("long.doc", WordKind.DOC, 4139, 4106, "长稿：全市政务信息工作情况详细汇报"),
]


@pytest.mark.parametrize(("name", "kind", "chars", "zi", "title"), ITEMS)
def test_items_are_read_whole(name: str, kind: WordKind, chars: int, zi: int, title: str) -> None:
    result = read_word(fixture(name))
    assert result is not None
    assert result.kind is kind
    assert result.problem is None
    assert result.text is not None
    lines = result.text.split("\n")
    assert lines[0] == title
    assert lines[1].startswith(FIRST)
    assert lines[-1] == CLOSING
    assert abs(len(result.text) - chars) <= chars // 100
    assert abs(visible(result.text) - zi) <= zi // 100


def test_limit_fixtures_straddle_4000() -> None:
    mid, long = read_word(fixture("mid.doc")), read_word(fixture("long.docx"))
    assert mid is not None
    assert mid.text is not None
    assert visible(mid.text) < 4000
    assert long is not None
    assert long.text is not None
    assert visible(long.text) > 4000


@pytest.mark.parametrize("stem", ["short", "mid", "long", "table", "special", "latin"])
def test_doc_and_docx_give_the_same_text(stem: str) -> None:
    doc, docx = read_word(fixture(f"{stem}.doc")), read_word(fixture(f"{stem}.docx"))
    assert doc is not None
    assert docx is not None
    assert doc.text == docx.text


@pytest.mark.parametrize("name", ["table.doc", "table.docx"])
def test_table_cells_become_tabs_and_rows_lines(name: str) -> None:
    assert read_word(fixture(name)) == WordText(
        kind=WordKind.DOC if name.endswith(".doc") else WordKind.DOCX,
        text="信息员名单如下：\n单位\t姓名\t联系电话\n市府办公厅\t张明\t020-83123456\n越秀区政府\t李红\t13800138000\n"
        + CLOSING,
    )


@pytest.mark.parametrize("name", ["special.doc", "special.docx"])
def test_line_break_and_field_keep_only_visible_text(name: str) -> None:
    result = read_word(fixture(name))
    assert result is not None
    assert result.text is not None
    assert result.text.startswith("特殊字符测试：第一行\n同段第二行\n详见市政府门户网站的通知。\n")
    assert "HYPERLINK" not in result.text
    assert "example.gov.cn" not in result.text


@pytest.mark.parametrize("name", ["latin.doc", "latin.docx"])
def test_western_punctuation(name: str) -> None:
    result = read_word(fixture(name))
    assert result is not None
    assert result.text == "Quarterly report “draft” – costs rose 5‰ to € 1,200."


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("encrypted.docx", WordText(kind=WordKind.DOCX, text=None, problem=WordProblem.ENCRYPTED)),
        ("encrypted.doc", WordText(kind=WordKind.DOC, text=None, problem=WordProblem.ENCRYPTED)),
        ("truncated.docx", WordText(kind=WordKind.DOCX, text=None, problem=WordProblem.CORRUPT)),
        ("report.doc", None),
        ("works.wps", None),
    ],
)
def test_problem_fixtures(name: str, expected: WordText | None) -> None:
    assert read_word(fixture(name)) == expected


def test_fixtures_stay_small() -> None:
    sizes = {p.name: p.stat().st_size for p in FIXTURES.iterdir()}
    assert len(sizes) >= 19
    assert max(sizes.values()) < 100_000


# --- DOCX built here: markup the fixtures do not cover ----------------------------------------------------


def test_tracked_changes_skip_deleted_and_keep_inserted_text() -> None:
    body = (
        "<w:p><w:r><w:t>保留</w:t></w:r>"
        '<w:del w:id="1" w:author="a"><w:r><w:delText>删除的字</w:delText></w:r></w:del>'
        '<w:ins w:id="2" w:author="a"><w:r><w:t>新增的字</w:t></w:r></w:ins>'
        '<w:moveFrom w:id="3" w:author="a"><w:r><w:t>移走的字</w:t></w:r></w:moveFrom></w:p>'
    )
    assert read_word(make_docx(body)) == WordText(kind=WordKind.DOCX, text="保留新增的字")


def test_tabs_breaks_field_codes_and_fallbacks() -> None:
    mc = "http://schemas.openxmlformats.org/markup-compatibility/2006"
    body = (
        f'<w:p xmlns:mc="{mc}"><w:r><w:t>甲</w:t><w:tab/><w:t>乙</w:t><w:br/><w:t>丙</w:t>'
        "<w:instrText> PAGE </w:instrText><w:noBreakHyphen/></w:r>"
        "<mc:AlternateContent><mc:Choice><w:r><w:t>框</w:t></w:r></mc:Choice>"
        "<mc:Fallback><w:r><w:t>框</w:t></w:r></mc:Fallback></mc:AlternateContent></w:p>"
        '<w:p><w:r><w:t xml:space="preserve">  丁  </w:t></w:r></w:p><w:p/>'
    )
    assert read_word(make_docx(body)) == WordText(kind=WordKind.DOCX, text="甲\t乙\n丙-框\n  丁")


def test_part_larger_than_a_chunk_is_read_to_its_last_paragraph() -> None:
    paragraphs = [f"第{i}段信息内容" for i in range(5000)]  # about 300 KB of XML: several chunks
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    assert read_word(make_docx(body)) == WordText(kind=WordKind.DOCX, text="\n".join(paragraphs))


def test_main_part_is_found_through_content_types() -> None:
    data = make_zip(
        {
            "[Content_Types].xml": content_types("/doc/main.xml"),
            "doc/main.xml": document("<w:p><w:r><w:t>正文</w:t></w:r></w:p>"),
        }
    )
    assert read_word(data) == WordText(kind=WordKind.DOCX, text="正文")


def test_package_without_content_types_is_word_by_its_part_name() -> None:
    data = make_zip({"word/document.xml": document("<w:p><w:r><w:t>正文</w:t></w:r></w:p>")})
    assert read_word(data) == WordText(kind=WordKind.DOCX, text="正文")


def test_declared_main_part_that_is_missing_is_corrupt() -> None:
    data = make_zip({"[Content_Types].xml": content_types("/word/missing.xml")})
    assert read_word(data) == WordText(kind=WordKind.DOCX, text=None, problem=WordProblem.CORRUPT)


@pytest.mark.parametrize(
    "members",
    [
        {
            "[Content_Types].xml": content_types("/xl/workbook.xml", XLSX_TYPE),
            "xl/workbook.xml": "<workbook/>",
        },
        {"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<office:document/>"},
        {"readme.txt": "not an office file"},
    ],
)
def test_other_zips_are_not_word(members: dict[str, str | bytes]) -> None:
    assert read_word(make_zip(members)) is None


@pytest.mark.parametrize(
    "xml",
    [
        "<w:document><w:body>",  # unfinished
        f'<w:document xmlns:w="{W_NS}"><w:body><w:p></w:body></w:document>',  # mismatched tags
        f'<w:document xmlns:w="{W_NS}">&undeclared;</w:document>',
        f'<!DOCTYPE w:document SYSTEM "http://example.invalid/x.dtd"><w:document xmlns:w="{W_NS}"/>',
    ],
)
def test_malformed_or_doctype_xml_is_corrupt(xml: str) -> None:
    data = make_zip({"[Content_Types].xml": content_types(), "word/document.xml": xml})
    assert read_word(data) == WordText(kind=WordKind.DOCX, text=None, problem=WordProblem.CORRUPT)


def test_billion_laughs_is_not_expanded() -> None:
    entities = '<!ENTITY l0 "哈哈哈哈哈哈哈哈哈哈">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    )
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]>'
        + document("<w:p><w:r><w:t>&l9;</w:t></w:r></w:p>").split("?>", 1)[1]
    )
    data = make_zip({"[Content_Types].xml": content_types(), "word/document.xml": xml})
    results: list[WordText | None] = []
    peak = peak_memory(lambda: results.append(read_word(data)))
    assert results == [WordText(kind=WordKind.DOCX, text=None, problem=WordProblem.CORRUPT)]
    assert peak < 2_000_000


def test_doctype_in_content_types_falls_back_to_the_part_name() -> None:
    types = '<!DOCTYPE Types [<!ENTITY x "y">]>' + content_types("/doc/main.xml")
    data = make_zip({"[Content_Types].xml": types, "doc/main.xml": document("")})
    assert read_word(data) is None


# --- caps: zip bombs, lying headers, member count, text length -------------------------------------------


def bomb(size: int) -> bytes:
    """A docx whose document.xml is ``size`` bytes of one repeated paragraph (compresses ~1000:1)."""
    para = b"<w:p><w:r><w:t>" + "炸".encode() * 300 + b"</w:t></w:r></w:p>"
    head = document("").split("<w:body>")[0].encode() + b"<w:body>"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", content_types())
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(head)
            block = para * (1024 * 1024 // len(para))
            for _ in range(size // len(block)):
                member.write(block)
            member.write(b"</w:body></w:document>")
    return buf.getvalue()


@pytest.fixture(scope="module")
def big_bomb() -> bytes:
    return bomb(64 * 1024 * 1024)


def test_zip_bomb_is_too_large_and_cheap(big_bomb: bytes) -> None:
    assert len(big_bomb) < 1_000_000
    results: list[WordText | None] = []
    peak = peak_memory(lambda: results.append(read_word(big_bomb)))
    assert results == [WordText(kind=WordKind.DOCX, text=None, problem=WordProblem.TOO_LARGE)]
    assert peak < 2_000_000


def patch_sizes(data: bytes, name: bytes, uncompressed: int) -> bytes:
    """Rewrite the uncompressed size both headers declare for member ``name`` (a lying header)."""
    out = bytearray(data)
    for signature, size_offset, name_offset in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        pos = out.find(signature)
        while pos >= 0:
            name_len = struct.unpack_from("<H", out, pos + 26 if signature == b"PK\x03\x04" else pos + 28)[0]
            if out[pos + name_offset : pos + name_offset + name_len] == name:
                struct.pack_into("<I", out, pos + size_offset, uncompressed)
            pos = out.find(signature, pos + 4)
    return bytes(out)


def test_header_understating_the_size_stops_at_the_declared_size() -> None:
    data = patch_sizes(bomb(8 * 1024 * 1024), b"word/document.xml", 100_000)
    results: list[WordText | None] = []
    peak = peak_memory(lambda: results.append(read_word(data)))
    # zipfile stops at the declared size, the CRC then fails: a broken Word file, read only 100 KB deep.
    assert results == [WordText(kind=WordKind.DOCX, text=None, problem=WordProblem.CORRUPT)]
    assert peak < 2_000_000


def test_declared_ratio_above_the_cap_is_too_large() -> None:
    data = bomb(8 * 1024 * 1024)  # under the size cap, but ~1000:1
    assert read_word(data) == WordText(kind=WordKind.DOCX, text=None, problem=WordProblem.TOO_LARGE)


def test_actual_size_is_capped_while_streaming() -> None:
    data = make_docx("<w:p><w:r><w:t>" + "字" * 100_000 + "</w:t></w:r></w:p>")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo("word/document.xml")
        with pytest.raises(_docx._StopError) as stop:
            for _ in _docx._chunks(zf, info, cap=100_000):
                pass
    assert stop.value.problem is WordProblem.TOO_LARGE


def test_too_many_members_is_too_large() -> None:
    members: dict[str, str | bytes] = {f"word/media/{i}.txt": "" for i in range(_docx.MAX_MEMBERS + 1)}
    members["word/document.xml"] = document("")
    assert read_word(make_zip(members)) == TOO_LARGE_DOCX


def test_oversized_input() -> None:
    padding = bytes(_docx.MAX_INPUT_BYTES)
    word_like = make_docx("<w:p/>") + padding
    assert read_word(word_like) == WordText(kind=WordKind.DOCX, text=None, problem=WordProblem.TOO_LARGE)
    assert read_word(make_zip({"a.txt": "x"}) + padding) is None


@pytest.mark.parametrize("name", ["short.docx", "short.doc"])
def test_text_over_the_cap_is_too_large(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_docx, "MAX_TEXT_CHARS", 100)
    monkeypatch.setattr(_doc, "MAX_TEXT_CHARS", 100)
    result = read_word(fixture(name))
    assert result is not None
    assert result.problem is WordProblem.TOO_LARGE


def test_piece_count_over_the_cap_is_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_doc, "MAX_PIECES", 0)
    assert read_word(fixture("short.doc")) == TOO_LARGE_DOC


# --- DOC: damaged FIB, CLX and OLE structure ---------------------------------------------------------------

FIB = fixture("short.doc").find(b"\xec\xa5")  # the WordDocument stream starts on a sector: offset of the FIB


def patched_doc(offset: int, fmt: str, value: int, name: str = "short.doc") -> bytes:
    data = bytearray(fixture(name))
    struct.pack_into(fmt, data, FIB + offset, value)
    return bytes(data)


CORRUPT_DOC = WordText(kind=WordKind.DOC, text=None, problem=WordProblem.CORRUPT)


@pytest.mark.parametrize(
    ("offset", "fmt", "value"),
    [
        (0x00, "<H", 0x1234),  # wIdent
        (0x02, "<H", 0x0065),  # nFib of Word 6
        (0x0A, "<H", 0x0000),  # fWhichTblStm cleared: 0Table does not exist
        (0x4C, "<i", -5),  # ccpText
        (0x1A2, "<I", 0x7FFF_0000),  # fcClx far outside the table stream
        (0x1A6, "<I", 0x7FFF_0000),  # lcbClx far too long
        (0x20, "<H", 0x7FFF),  # csw pushes the FIB's arrays past its end
    ],
)
def test_damaged_fib_is_corrupt(offset: int, fmt: str, value: int) -> None:
    assert read_word(patched_doc(offset, fmt, value)) == CORRUPT_DOC


def test_fib_claiming_huge_text_is_too_large() -> None:
    data = patched_doc(0x4C, "<i", 50_000_000)
    assert read_word(data) == WordText(kind=WordKind.DOC, text=None, problem=WordProblem.TOO_LARGE)


def test_fib_encryption_bit_is_encrypted() -> None:
    flags = struct.unpack_from("<H", fixture("short.doc"), FIB + 0x0A)[0]
    data = patched_doc(0x0A, "<H", flags | 0x0100)
    assert read_word(data) == WordText(kind=WordKind.DOC, text=None, problem=WordProblem.ENCRYPTED)


def test_compressed_piece_uses_the_8bit_mapping() -> None:
    """short.doc rewritten so its one piece is stored 8-bit (fCompressed) instead of UTF-16."""
    data = bytearray(fixture("short.doc"))
    with olefile.OleFileIO(bytes(data)) as ole:
        word = ole.openstream("WordDocument").read()
        fc_clx, lcb_clx = struct.unpack_from("<II", word, 0x1A2)
        clx = ole.openstream("1Table").read()[fc_clx : fc_clx + lcb_clx]
    cp_end, fc = struct.unpack_from("<I2xI", clx, 5 + 4)  # one piece: CPs 0 and cp_end, then its PCD
    clx_at = data.find(clx)
    assert data.count(clx) == 1
    assert data[FIB + fc : FIB + fc + 4] == word[fc : fc + 4]
    sample = b"Quarterly report \x93draft\x94 \x96 costs rose 5\x89 to $ 1,200.\xe9\x80"
    data[FIB + fc : FIB + fc + cp_end] = sample + b"\r" * (cp_end - len(sample))
    struct.pack_into("<I", data, clx_at + 15, 0x4000_0000 | 2 * fc)
    assert read_word(bytes(data)) == WordText(
        kind=WordKind.DOC, text="Quarterly report “draft” – costs rose 5‰ to $ 1,200.é"
    )


def test_clean_keeps_field_results_and_drops_codes_and_marks() -> None:
    raw = "甲\x13 HYPERLINK \x13 REF x \x14内\x15\x14结果\x15乙\x01\x0c丙\x1e丁\x1f\x0b戊\r\x13 PAGE \x15"
    assert _doc._clean(raw) == "甲结果乙\n丙-丁\n戊\n"


@pytest.mark.parametrize("size", [4200, 6000, 8000])
def test_truncated_doc_is_corrupt(size: int) -> None:
    assert read_word(fixture("short.doc")[:size]) == CORRUPT_DOC


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 2000,
        b"plain text, not a document",
        "纯文本".encode(),
        b"%PDF-1.4\n",
        b"\x89PNG\r\n\x1a\n" + bytes(100),
        OLE_MAGIC,
        OLE_MAGIC + bytes(2000),
        ZIP_MAGIC,
        ZIP_MAGIC + bytes(100),
        fixture("short.doc")[:1000],
    ],
)
def test_not_word_or_unrecognisable(data: bytes) -> None:
    assert read_word(data) is None


def test_random_bytes_behind_magic_never_pass_as_text() -> None:
    rng = bytes(range(256)) * 40
    for magic in (OLE_MAGIC, ZIP_MAGIC):
        result = read_word(magic + rng)
        assert result is None or result.text is None


def test_unexpected_errors_become_corrupt(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(data: bytes) -> WordText | None:
        raise MemoryError

    monkeypatch.setattr("mailgate.mail.word.read_ole", explode)
    assert read_word(fixture("short.doc")) == CORRUPT_DOC


# --- properties ---------------------------------------------------------------------------------------------

ALL_FIXTURES = sorted(p.name for p in FIXTURES.iterdir() if p.suffix != ".md")
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(result: WordText | None) -> None:
    if result is not None:
        assert (result.text is None) == (result.problem is not None)
        assert result.text is None or len(result.text) <= 1_000_000


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=4096),
        st.sampled_from([OLE_MAGIC, ZIP_MAGIC]).flatmap(
            lambda magic: st.binary(max_size=4096).map(lambda tail: magic + tail)
        ),
    )
)
def test_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    check(read_word(data))


@FUZZ
@given(
    st.sampled_from(ALL_FIXTURES),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), max_size=20),
    st.one_of(st.none(), st.integers(min_value=0)),
)
def test_never_raises_on_mutated_fixtures(name: str, changes: list[tuple[int, int]], cut: int | None) -> None:
    data = bytearray(fixture(name))
    for position, value in changes:
        data[position % len(data)] = value
    if cut is not None:
        del data[cut % len(data) :]
    check(read_word(bytes(data)))
