"""The registry of units (標識, names, aliases, series) and their registered officers (信息員)."""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mailgate.errors import RegistryError
from mailgate.mail.folding import fold


class Series(enum.StrEnum):
    """The assessment series a unit belongs to (seed section 四(一))."""

    DISTRICT = "district"  # 區、縣級市序列
    DEPT_A = "dept-a"  # 工作部門序列 A 類
    DEPT_B = "dept-b"  # 工作部門序列 B 類
    DIRECT = "direct"  # 直報點序列


class Unit(BaseModel):
    """A submitting unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)  # the 標識
    name: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    series: Series
    parent: str | None = None  # the supervising unit of a direct-report point


class Officer(BaseModel):
    """A registered information officer (信息員登記備案)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str = Field(min_length=3)
    name: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    phone: str | None = None
    title: str | None = None  # 職務
    active: bool = True

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        value = value.strip().lower()
        if "@" not in value:
            raise ValueError("not an e-mail address")
        return value


class Registry:
    """Units and officers, with look-ups by e-mail address and by any folded name of a unit."""

    def __init__(self, units: Iterable[Unit] = (), officers: Iterable[Officer] = ()) -> None:
        self.units: dict[str, Unit] = {}
        self.officers: dict[str, Officer] = {}
        self._by_key: dict[str, Unit] = {}
        for unit in units:
            if unit.id in self.units:
                raise RegistryError(f"unit {unit.id!r} is listed twice")
            self.units[unit.id] = unit
        for unit in self.units.values():
            if unit.parent is not None and unit.parent not in self.units:
                raise RegistryError(f"unit {unit.id!r} names unknown parent {unit.parent!r}")
            for key in self.keys_of(unit):
                other = self._by_key.setdefault(key, unit)
                if other.id != unit.id:
                    raise RegistryError(f"units {other.id!r} and {unit.id!r} share the name {key!r}")
        for officer in officers:
            if officer.unit not in self.units:
                raise RegistryError(f"officer {officer.email} names unknown unit {officer.unit!r}")
            if officer.email in self.officers:
                raise RegistryError(f"officer {officer.email} is listed twice")
            self.officers[officer.email] = officer

    @staticmethod
    def keys_of(unit: Unit) -> set[str]:
        """The folded forms of every name the unit goes by."""
        return {k for k in (fold(n) for n in (unit.id, unit.name, *unit.aliases)) if k}

    def officer(self, email: str | None) -> Officer | None:
        """The active officer registered with ``email``, if any."""
        officer = self.registered(email)
        return officer if officer is not None and officer.active else None

    def registered(self, email: str | None) -> Officer | None:
        """The officer registered with ``email``, active or not."""
        return self.officers.get((email or "").strip().lower())

    def unit_named(self, text: str | None) -> Unit | None:
        """The unit whose identifier, name or alias folds to the same key as ``text``."""
        return self._by_key.get(fold(text or ""))

    def to_dict(self) -> dict[str, Any]:
        return {
            "units": [
                u.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
                | {"id": u.id, "name": u.name, "series": u.series.value}
                for u in self.units.values()
            ],
            "officers": [o.model_dump(mode="json", exclude_none=True) for o in self.officers.values()],
        }


def registry_from_mapping(data: Mapping[str, Any], *, origin: str = "registry") -> Registry:
    """Validate a parsed TOML document of the registry format in SPEC.md."""
    unknown = set(data) - {"units", "officers"}
    if unknown:
        raise RegistryError(f"{origin}: unknown table(s) {sorted(unknown)}")
    try:
        units = [Unit.model_validate(u) for u in data.get("units", [])]
        officers = [Officer.model_validate(o) for o in data.get("officers", [])]
    except ValidationError as exc:
        raise RegistryError(f"{origin}: {exc}") from exc
    return Registry(units, officers)


def load_registry(path: Path) -> Registry:
    """Read a registry TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RegistryError(f"cannot read registry {path}: {exc}") from exc
    return registry_from_mapping(data, origin=str(path))


def dump_registry(registry: Registry) -> str:
    """The registry as TOML, in the same format ``load_registry`` reads."""
    return tomli_w.dumps(registry.to_dict())
