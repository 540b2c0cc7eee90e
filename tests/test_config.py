"""Settings: defaults, the TOML file, environment overrides and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailgate.config import load_settings
from mailgate.errors import ConfigurationError
from mailgate.mail.counting import CountMode


def test_defaults_follow_the_spec() -> None:
    rules = load_settings().rules
    assert (rules.body_max_zi, rules.attachment_max_zi) == (450, 4000)
    assert rules.max_message_bytes == 25 * 1024 * 1024
    assert (rules.clock_skew_minutes, rules.stale_days) == (15, 7)
    assert rules.counting is CountMode.WORD


def test_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mailgate.toml"
    path.write_text(
        'registry_file = "units.toml"\n[rules]\ncounting = "chars"\nbody_max_zi = 500\n'
        '[rules.severities]\n"clock-skew" = "off"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("MAILGATE_RULES__BODY_MAX_ZI", "600")
    settings = load_settings(path)
    assert settings.rules.counting is CountMode.CHARS
    assert settings.rules.body_max_zi == 600
    assert settings.rules.severities == {"clock-skew": "off"}
    assert settings.registry_file == (tmp_path / "units.toml").resolve()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[rules]\nbody_max_zi = -1\n", "rules.body_max_zi"),
        ("[rules]\ncounting = 'lines'\n", "rules.counting"),
        ("[rules.severities]\n'encoding' = 'maybe'\n", "rules.severities.encoding"),
        ("[rulez]\n", "rulez"),
        ("not toml = = 1", "not valid TOML"),
    ],
)
def test_invalid_settings_name_the_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=fragment):
        load_settings(path)
