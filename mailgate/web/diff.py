"""Side-by-side differences between two versions of an item, line by line, changed characters marked."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

#: A run of a line's text, and whether it changed.
Segment = tuple[str, bool]


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row of the table: the old line and the new line (either may be missing)."""

    kind: str  # equal | delete | insert | replace
    old_number: int | None
    old: list[Segment]
    new_number: int | None
    new: list[Segment]


def diff_rows(old: str, new: str) -> list[DiffRow]:
    """The rows that turn ``old`` into ``new``; replaced lines are paired, their changed characters marked."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(
                DiffRow("equal", i + 1, [(old_lines[i], False)], j + 1, [(new_lines[j], False)])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(pairs):
            before, after = _marked(old_lines[i1 + k], new_lines[j1 + k])
            rows.append(DiffRow("replace", i1 + k + 1, before, j1 + k + 1, after))
        rows.extend(DiffRow("delete", i + 1, [(old_lines[i], True)], None, []) for i in range(i1 + pairs, i2))
        rows.extend(DiffRow("insert", None, [], j + 1, [(new_lines[j], True)]) for j in range(j1 + pairs, j2))
    return rows


def _marked(old: str, new: str) -> tuple[list[Segment], list[Segment]]:
    """Both lines cut into unchanged and changed runs of characters."""
    before: list[Segment] = []
    after: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if i2 > i1:
            before.append((old[i1:i2], tag != "equal"))
        if j2 > j1:
            after.append((new[j1:j2], tag != "equal"))
    return before, after
