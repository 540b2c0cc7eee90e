"""HTML bodies to text: layout kept as lines, scripts and styles gone, never raising."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mailgate.mail.html import MAX_HTML_CHARS, html_to_text

OUTLOOK = (
    '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta charset=gb2312>'
    "<style><!-- p.MsoNormal {margin:0cm;} --></style><title>x</title></head><body lang=ZH-CN>"
    "<div class=WordSection1><p class=MsoNormal><span>天河区推进政务信息化建设<o:p></o:p></span></p>"
    "<p class=MsoNormal>近日，天河区召开会议。<o:p></o:p></p>"
    "<p class=MsoNormal><o:p>&nbsp;</o:p></p>"
    "<p class=MsoNormal>作者单位：天河区政府办</p><p class=MsoNormal>姓名：张三</p></div></body></html>"
)


def test_outlook_paragraphs_become_lines() -> None:
    assert html_to_text(OUTLOOK) == (
        "天河区推进政务信息化建设\n近日，天河区召开会议。\n\n作者单位：天河区政府办\n姓名：张三"
    )


def test_nested_blocks_do_not_add_blank_lines() -> None:
    assert html_to_text("<div><div><div>a</div></div><div>b</div></div>") == "a\nb"


def test_br_breaks_lines_and_blank_div_is_a_blank_line() -> None:
    assert (
        html_to_text("<div>标题<br></div><div><br></div><div>正文<br>第二行</div>") == "标题\n\n正文\n第二行"
    )


def test_script_style_head_are_dropped_but_tails_kept() -> None:
    html = "<head><title>T</title></head><body>a<script>alert(1)</script>b<style>p{}</style>c</body>"
    assert html_to_text(html) == "abc"


def test_entities_and_spaces() -> None:
    assert html_to_text("<p>A&nbsp;&amp;&nbsp;B   &lt;C&gt;\n  D &#22825;&#x6CB3;</p>") == "A & B <C> D 天河"


def test_table_cells_are_separated() -> None:
    html = "<table><tr><td>姓名</td><td>张三</td></tr><tr><th>电话</th><td>38622000</td></tr></table>"
    assert html_to_text(html) == "姓名 张三\n电话 38622000"


def test_pre_keeps_its_line_breaks() -> None:
    assert html_to_text("<pre>a\nb</pre>c") == "a\nb\nc"


def test_broken_html_is_read() -> None:
    assert html_to_text("<p>unclosed <b>bold <div>x</p></i>") == "unclosed bold\nx"


def test_empty_and_blank_inputs() -> None:
    assert html_to_text("") == ""
    assert html_to_text("  \n ") == ""
    assert html_to_text("<html></html>") == ""


def test_xml_declaration_with_encoding() -> None:
    assert html_to_text("<?xml version='1.0' encoding='gbk'?><html><body>正文</body></html>") == "正文"


def test_external_entities_are_not_expanded() -> None:
    html = '<!DOCTYPE html [<!ENTITY e SYSTEM "file:///etc/passwd">]><p>&e;</p>'
    assert "root" not in html_to_text(html)


def test_nul_and_control_characters() -> None:
    assert html_to_text("<p>a\x00b</p>") == "ab"


def test_input_is_capped() -> None:
    html = "<p>" + "字" * (MAX_HTML_CHARS + 1000) + "</p><p>END</p>"
    text = html_to_text(html)
    assert "END" not in text
    assert len(text) <= MAX_HTML_CHARS


def test_deep_nesting_does_not_raise() -> None:
    assert isinstance(html_to_text("<div>" * 50_000 + "x"), str)


@given(st.text(max_size=500))
def test_property_never_raises_on_text(html: str) -> None:
    assert isinstance(html_to_text(html), str)


TAGS = st.sampled_from(
    ["<p>", "</p>", "<div>", "</div>", "<br>", "<script>", "</script>", "<td>", "<pre>", "&nbsp;"]
)


@given(st.lists(st.one_of(TAGS, st.text(max_size=10)), max_size=40))
def test_property_never_raises_on_tag_soup(pieces: list[str]) -> None:
    text = html_to_text("".join(pieces))
    assert "\ufdd0" not in text
    assert "\ufdd1" not in text
