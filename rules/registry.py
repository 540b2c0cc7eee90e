"""The rule registry: every rule by its stable id, in evaluation order, duplicates refused."""

from __future__ import annotations

from collections.abc import Iterator

from mailgate.errors import ConfigurationError
from rules.base import Rule


class DuplicateRuleError(ConfigurationError):
    """Two rules claimed the same id."""


class RuleRegistry:
    """An ordered collection of rules keyed by name."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}

    def register(self, rule: Rule) -> Rule:
        if rule.name in self._rules:
            raise DuplicateRuleError(f"a rule named {rule.name!r} is already registered")
        self._rules[rule.name] = rule
        return rule

    def __getitem__(self, name: str) -> Rule:
        return self._rules[name]

    def __contains__(self, name: object) -> bool:
        return name in self._rules

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)

    def names(self) -> list[str]:
        return list(self._rules)
