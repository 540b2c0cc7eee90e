"""The version diff: every line of both versions appears once, in order, and only changes are marked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mailgate.web.diff import DiffRow, diff_rows

_lines = st.lists(st.text(alphabet="天河区新建基站12。 ", max_size=8), max_size=8)


def _side(rows: list[DiffRow], old: bool) -> list[str]:
    return [
        "".join(text for text, _ in (r.old if old else r.new))
        for r in rows
        if (r.old_number if old else r.new_number)
    ]


@given(_lines, _lines)
def test_the_rows_hold_both_versions_line_by_line(old: list[str], new: list[str]) -> None:
    rows = diff_rows("\n".join(old), "\n".join(new))
    assert _side(rows, old=True) == "\n".join(old).splitlines()
    assert _side(rows, old=False) == "\n".join(new).splitlines()
    assert [r.old_number for r in rows if r.old_number] == list(range(1, len(_side(rows, True)) + 1))
    for row in rows:
        assert (row.kind == "equal") is not any(changed for _, changed in row.old + row.new)


def test_a_changed_figure_is_marked_within_its_line() -> None:
    rows = diff_rows("标题\n新建基站1200个。\n旧段落", "标题\n新建基站1500个。")
    assert [r.kind for r in rows] == ["equal", "replace", "delete"]
    assert rows[1].old == [("新建基站1", False), ("2", True), ("00个。", False)]
    assert rows[1].new == [("新建基站1", False), ("5", True), ("00个。", False)]
    assert rows[2].new_number is None
