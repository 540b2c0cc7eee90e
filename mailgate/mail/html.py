"""HTML mail bodies to plain text: block structure as newlines, scripts and styles dropped."""

from __future__ import annotations

import html as _html
import re

from lxml import etree

#: HTML bodies longer than this many characters are cut before parsing.
MAX_HTML_CHARS = 2_000_000

_BLOCKS = (
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "ul",
)
_DROPPED = ("head", "script", "style", "title", "noscript", "template", "object", "iframe")
#: Noncharacters that never occur in mail text, used to mark block edges and line breaks while joining.
_BLOCK = "\ufdd0"
_BREAK = "\ufdd1"
#: Characters lxml will not hold in a tree, and the two markers.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff\ufdd0\ufdd1]")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_ALL_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_TAG = re.compile(r"<[^>]*>")
_DROPPED_BLOCK = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def _parser() -> etree.HTMLParser:
    return etree.HTMLParser(
        encoding="utf-8", no_network=True, remove_comments=True, remove_pis=True, recover=True
    )


def _strip_tags(html: str) -> str:
    text = _html.unescape(_TAG.sub(" ", _DROPPED_BLOCK.sub(" ", html)))
    return "\n".join(filter(None, (_ALL_SPACES.sub(" ", line).strip() for line in text.splitlines())))


def _mark(root: etree._Element) -> None:
    """Put block and line-break markers into the tree's text so that joining its text keeps the layout."""
    for element in root.iter(*_BLOCKS, "br", "td", "th"):
        tag = element.tag
        if tag == "br":
            element.tail = _BREAK + (element.tail or "")
        elif tag in ("td", "th"):
            element.text = " " + (element.text or "")
        else:
            element.text = _BLOCK + (element.text or "")
            element.tail = _BLOCK + (element.tail or "")
        if tag == "pre":
            for inner in element.iter():
                inner.text = inner.text and inner.text.replace("\n", _BREAK)
                if inner is not element:
                    inner.tail = inner.tail and inner.tail.replace("\n", _BREAK)


def _lines(text: str) -> list[str]:
    """Lines of joined, marked text: empty blocks vanish, a lone &nbsp; or <br> block is a blank line."""
    lines: list[str] = []
    for block in _SPACES.sub(" ", text).split(_BLOCK):
        block = block.strip(" ")
        if not block:
            continue
        if block != _BREAK and block.endswith(_BREAK):  # a trailing <br> ends the line, it adds none
            block = block[:-1]
        lines.extend(line.replace("\u00a0", " ").strip() for line in block.split(_BREAK))
    return lines


def html_to_text(html: str) -> str:
    """The readable text of an HTML document; never raises, returns "" when there is none."""
    html = _NOT_XML.sub("", html[:MAX_HTML_CHARS])
    if not html.strip():
        return ""
    try:
        root = etree.fromstring(html.encode("utf-8", "replace"), _parser())
    except (etree.LxmlError, ValueError):
        root = None
    if root is None:  # nothing lxml could build a tree from
        return _strip_tags(html)
    etree.strip_elements(root, *_DROPPED, with_tail=False)
    _mark(root)
    text = "\n".join(_lines(etree.tostring(root, method="text", encoding="unicode")))
    return _BLANK_LINES.sub("\n\n", text).strip("\n")
