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
        ("[source.imap]\nsecurity = 'starttls'\n", "source.imap.security"),
        ("[source.imap]\nbackoff_min_seconds = 10\nbackoff_max_seconds = 5\n", "backoff_max_seconds"),
        ("not toml = = 1", "not valid TOML"),
    ],
)
def test_invalid_settings_name_the_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=fragment):
        load_settings(path)


def test_the_example_config_is_valid_and_shows_the_defaults() -> None:
    example = Path(__file__).resolve().parent.parent / "config" / "mailgate.example.toml"
    settings = load_settings(example)
    assert settings.model_dump(exclude={"registry_file"}) == load_settings().model_dump(
        exclude={"registry_file"}
    )


def test_imap_needs_both_accounts(tmp_path: Path) -> None:
    path = tmp_path / "imap.toml"
    path.write_text('[source]\nkind = "imap"\n[source.imap.daily]\nusername = "inf"\n', encoding="utf-8")
    with pytest.raises(ConfigurationError, match="commissioned"):
        load_settings(path)


def test_passwords_come_from_files_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret\n", encoding="utf-8")
    path = tmp_path / "mailgate.toml"
    path.write_text(
        f'[transport]\nkind = "smtp"\n[transport.smtp]\npassword_file = "{secret}"\n'
        '[source]\nkind = "imap"\n[source.imap.daily]\nusername = "inf"\n'
        '[source.imap.commissioned]\nusername = "sfxx"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("MAILGATE_SOURCE__IMAP__COMMISSIONED__PASSWORD", "from-env")
    settings = load_settings(path)
    assert settings.transport.smtp.secret() == "s3cret"
    assert settings.source.imap.commissioned is not None
    assert settings.source.imap.commissioned.secret() == "from-env"
    assert "from-env" not in repr(settings)
