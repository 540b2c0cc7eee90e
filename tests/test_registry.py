"""The unit and officer registry: loading, look-ups by folded names, export round trip, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailgate.errors import RegistryError
from mailgate.registry import Registry, Series, dump_registry, load_registry, registry_from_mapping

TOML = """
[[units]]
id = "天河区"
name = "天河区人民政府办公室"
aliases = ["天河区政府办"]
series = "district"

[[units]]
id = "市统计局"
name = "广州市统计局"
series = "dept-a"

[[units]]
id = "天河软件园"
name = "天河软件园管委会"
series = "direct"
parent = "天河区"

[[officers]]
email = "XXY@th.gz.gov.cn"
name = "张三"
unit = "天河区"
phone = "020-38622000"

[[officers]]
email = "old@tjj.gz.gov.cn"
name = "李四"
unit = "市统计局"
active = false
"""


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    path = tmp_path / "registry.toml"
    path.write_text(TOML, encoding="utf-8")
    return load_registry(path)


def test_loads_units_and_officers(registry: Registry) -> None:
    assert set(registry.units) == {"天河区", "市统计局", "天河软件园"}
    assert registry.units["天河软件园"].series is Series.DIRECT
    assert registry.units["天河软件园"].parent == "天河区"


@pytest.mark.parametrize(
    "text", ["天河区", "天河區", "【天河區】", "天河区人民政府办公室", "天河區政府辦", " 天河 区 "]
)
def test_units_are_found_by_any_folded_name(registry: Registry, text: str) -> None:
    unit = registry.unit_named(text)
    assert unit is not None
    assert unit.id == "天河区"


def test_unknown_names_find_nothing(registry: Registry) -> None:
    assert registry.unit_named("越秀区") is None
    assert registry.unit_named("") is None
    assert registry.unit_named(None) is None


def test_officers_by_address_case_insensitive_and_active_only(registry: Registry) -> None:
    officer = registry.officer("xxy@TH.gz.gov.cn")
    assert officer is not None
    assert officer.name == "张三"
    assert registry.officer("old@tjj.gz.gov.cn") is None
    assert registry.officer(None) is None


def test_export_round_trips(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "again.toml"
    path.write_text(dump_registry(registry), encoding="utf-8")
    again = load_registry(path)
    assert again.units == registry.units
    assert again.officers == registry.officers


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"units": [{"id": "a", "name": "A", "series": "district"}] * 2}, "listed twice"),
        ({"units": [{"id": "a", "name": "A", "series": "nowhere"}]}, "series"),
        ({"units": [{"id": "a", "name": "A", "series": "direct", "parent": "b"}]}, "unknown parent"),
        ({"officers": [{"email": "x@y.cn", "name": "X", "unit": "none"}]}, "unknown unit"),
        ({"officers": [{"email": "not-an-address", "name": "X", "unit": "a"}]}, "e-mail"),
        ({"unitz": []}, "unknown table"),
        (
            {
                "units": [
                    {"id": "a", "name": "同名", "series": "district"},
                    {"id": "b", "name": "同名", "series": "district"},
                ]
            },
            "share the name",
        ),
    ],
)
def test_invalid_registries_are_refused_with_a_reason(data: dict[str, object], fragment: str) -> None:
    with pytest.raises(RegistryError, match=fragment):
        registry_from_mapping(data)


def test_unreadable_file_is_a_registry_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[units]\n", encoding="utf-8")
    with pytest.raises(RegistryError):
        load_registry(bad)
    with pytest.raises(RegistryError):
        load_registry(tmp_path / "missing.toml")
