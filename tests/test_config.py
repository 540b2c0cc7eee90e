"""Settings: defaults, the TOML file, environment overrides and clear errors."""

from __future__ import annotations

import json
import re
import string
import subprocess
import sys
import types
import typing
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from mailgate.config import FILE_RELATIVE, Settings, load_settings
from mailgate.errors import ConfigurationError
from mailgate.mail.counting import CountMode
from rules import default_rules


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
        ("[rules]\ntimezone = 'Asia/Shanghia'\n", "rules.timezone: unknown time zone 'Asia/Shanghia'"),
        ("[rules]\ntimezone = ''\n", "rules.timezone: unknown time zone"),
        ("[rules]\ntimezone = '../../etc/passwd'\n", "rules.timezone: unknown time zone"),
        ("[rules.severities]\n'clock-skwe' = 'off'\n", "rules.severities.clock-skwe: no such rule"),
        ("[rules.messages]\n'body-lenght' = '太长'\n", "rules.messages.body-lenght: no such rule"),
        ("[rules.messages]\n'stale-date.old' = '太旧'\n", "stale-date has no message 'old'"),
        ("[rules.messages]\n'body-length' = '{words} 字'\n", r"rules.messages.body-length: .*\{words\}"),
        ("[rules.messages]\n'body-length' = '{} 字'\n", r"unknown placeholder \{\}"),
        ("[rules.messages]\n'body-length' = '{count 字'\n", "not a valid message template"),
        (
            '[replies]\neditors_address = "editors@gzy.gov.cn\\r\\nBcc: all@gzy.gov.cn"\n',
            "replies.editors_address: must be one line",
        ),
        ("[replies]\neditors_address = 'editors'\n", "replies.editors_address: 'editors' is not an e-mail"),
        ("[replies]\neditors_address = 'a@gzy.gov.cn, b@gzy.gov.cn'\n", "replies.editors_address"),
        ("[replies]\neditors_address = '编辑部 <editors@gzy.gov.cn>'\n", "replies.editors_address"),
        ("[replies]\neditors_address = '\"编辑 部\"@gzy.gov.cn'\n", "replies.editors_address"),
        ("[replies]\neditors_address = 'editors@gzy..gov.cn'\n", "replies.editors_address"),
        ("[replies]\nfrom_address = 'inf@'\n", "replies.from_address: 'inf@' is not an e-mail address"),
        ('[replies]\nfrom_address = "inf@gzy.gov.cn\\nX: y"\n', "replies.from_address: must be one line"),
        ('[replies]\nfrom_name = "新闻信息处\\r\\nBcc: x@y.z"\n', "replies.from_name: must be one line"),
        ("[replies]\ndomain = 'bad domain'\n", "replies.domain: 'bad domain' is not a domain name"),
        ('[rules]\nloop_marker = "a\\nb"\n', "rules.loop_marker: must be one line"),
        (
            '[source.imap.folders]\nrejected = "Rejected\\r\\nA1 DELETE INBOX"\n',
            "source.imap.folders.rejected: must be one line",
        ),
        ('[source.imap.daily]\nusername = "inf\\r\\n"\n', "source.imap.daily.username: must be one line"),
        ("[store]\nurl = 'mailgate.db'\n", "store.url: not a database URL"),
        ("[store]\nurl = 'mysql+aiomysql://u:hunter2@db/mailgate'\n", "store.url: .* not mysql$"),
        ("[store]\nurl = 'sqlite:///var/mailgate.db'\n", "store.url: sqlite is not an asyncio driver"),
        ("[store]\nurl = 'postgresql+pg9000://db/mailgate'\n", "store.url: postgresql.pg9000 is not"),
    ],
)
def test_invalid_settings_name_the_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=fragment):
        load_settings(path)


def test_a_bad_store_url_is_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[store]\nurl = 'postgresql+asyncpg://u:hunter2@db:port/x'\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"store\.url: not a database URL") as caught:
        load_settings(path)
    assert "hunter2" not in str(caught.value)


def test_each_problem_is_one_line_naming_its_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        "[rules]\ntimezone = 'Mars/Olympus_Mons'\n[rules.severities]\n'nope' = 'off'\n"
        '[replies]\neditors_address = "x\\r\\ny"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    header, *lines = str(caught.value).splitlines()
    assert header == f"invalid configuration in {path}:"
    # Field errors come first; the checks across settings run once the fields are valid.
    assert [line.split(":")[0].strip() for line in lines] == ["replies.editors_address"]
    path.write_text(
        "[rules]\ntimezone = 'Mars/Olympus_Mons'\n[rules.severities]\n'nope' = 'off'\n", encoding="utf-8"
    )
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    lines = str(caught.value).splitlines()[1:]
    assert [line.split(":")[0].strip() for line in lines] == ["rules.timezone", "rules.severities.nope"]


def test_the_environment_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILGATE_RULES__TIMEZONE", "Asia/Beijing")
    with pytest.raises(ConfigurationError, match=r"rules\.timezone: unknown time zone 'Asia/Beijing'"):
        load_settings()


def _placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def _placeholder_of_one_message() -> tuple[str, str, str]:
    """A rule, one of its reasons, and a placeholder that reason's message has but another has not."""
    for rule in default_rules():
        fields = {reason: _placeholders(text) for reason, text in rule.messages.items()}
        common = set.intersection(*fields.values())
        for reason, names in fields.items():
            if names - common:
                return rule.name, reason, sorted(names - common)[0]
    raise AssertionError("every rule's messages have the same placeholders")


def test_a_rule_wide_override_has_only_the_placeholders_all_its_messages_have(tmp_path: Path) -> None:
    rule, reason, name = _placeholder_of_one_message()
    path = tmp_path / "messages.toml"
    path.write_text(f"[rules.messages]\n'{rule}' = '见 {{{name}}}'\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=re.escape(f'use a key "{rule}.<reason>"')):
        load_settings(path)
    path.write_text(f"[rules.messages]\n'{rule}.{reason}' = '见 {{{name}}}'\n", encoding="utf-8")
    assert load_settings(path).rules.messages == {f"{rule}.{reason}": f"见 {{{name}}}"}


def test_overrides_that_fit_their_messages_are_accepted(tmp_path: Path) -> None:
    body_length = next(r for r in default_rules() if r.name == "body-length").messages["default"]
    first = sorted(_placeholders(body_length))[0]
    path = tmp_path / "ok.toml"
    path.write_text(
        "[rules.severities]\n'stale-date' = 'reject'\n"
        f"[rules.messages]\n'body-length' = {json.dumps(body_length, ensure_ascii=False)}\n"
        f"'body-length.default' = '正文 {{{first}:>4}} 字'\n"
        "'wrong-inbox' = '请投另一个邮箱'\n"
        "[replies]\neditors_address = ''\nfrom_address = 'xxb@广州.gov.cn'\n",
        encoding="utf-8",
    )
    settings = load_settings(path)
    assert settings.rules.messages["body-length"] == body_length
    assert settings.replies.editors_address is None  # empty: no alerts
    assert settings.replies.from_address == "xxb@广州.gov.cn"  # an IDNA host name


def test_one_time_zone_for_everything(tmp_path: Path) -> None:
    assert load_settings().zone == zoneinfo.ZoneInfo("Asia/Shanghai")
    path = tmp_path / "london.toml"
    path.write_text("[rules]\ntimezone = 'Europe/London'\n", encoding="utf-8")
    settings = load_settings(path)
    assert settings.zone == settings.rules.zone == zoneinfo.ZoneInfo("Europe/London")


def test_loading_settings_does_not_load_the_rules_unless_overrides_need_them(tmp_path: Path) -> None:
    path = tmp_path / "plain.toml"
    path.write_text("[rules]\nbody_max_zi = 500\n", encoding="utf-8")
    probe = (
        "import sys; from pathlib import Path; from mailgate.config import load_settings; "
        f"load_settings(Path({str(path)!r})); print(sorted(m for m in sys.modules if m.startswith('rules.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert "rules.body_length" not in result.stdout, result.stdout


def test_relative_paths_in_a_file_are_relative_to_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    path = folder / "mailgate.toml"
    path.write_text(
        'registry_file = "units.toml"\n'
        '[store]\nurl = "sqlite+aiosqlite:///data/mailgate.db"\n'
        '[source]\ndaily = "mail/daily"\ncommissioned = "/srv/mail/commissioned"\n'
        '[source.imap.daily]\nusername = "inf"\npassword_file = "secrets/daily"\n'
        '[source.imap.commissioned]\nusername = "sfxx"\npassword_file = "../secrets/commissioned"\n'
        '[transport]\ndirectory = "outbox"\n[transport.smtp]\npassword_file = "secrets/smtp"\n'
        '[replies]\ntemplate_dir = "templates"\n[web]\nsecret_key_file = "secrets/web"\n',
        encoding="utf-8",
    )
    settings = load_settings(Path("..") / "etc" / "mailgate.toml")  # a relative --config too
    base = folder.resolve()
    assert settings.registry_file == base / "units.toml"
    assert settings.store.url == f"sqlite+aiosqlite:///{base}/data/mailgate.db"
    assert settings.store.sqlite_file == base / "data" / "mailgate.db"
    assert settings.source.daily == base / "mail" / "daily"
    assert settings.source.commissioned == Path("/srv/mail/commissioned")
    assert settings.source.imap.daily is not None
    assert settings.source.imap.commissioned is not None
    assert settings.source.imap.daily.password_file == base / "secrets" / "daily"
    assert settings.source.imap.commissioned.password_file == tmp_path.resolve() / "secrets" / "commissioned"
    assert settings.transport.directory == base / "outbox"
    assert settings.transport.smtp.password_file == base / "secrets" / "smtp"
    assert settings.replies.template_dir == base / "templates"
    assert settings.web.secret_key_file == base / "secrets" / "web"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:////var/lib/mailgate/mailgate.db",
        "sqlite+aiosqlite:///:memory:",
        "postgresql+asyncpg://mailgate@db.internal/mailgate",
    ],
)
def test_other_store_urls_are_kept(tmp_path: Path, url: str) -> None:
    path = tmp_path / "mailgate.toml"
    path.write_text(f'[store]\nurl = "{url}"\n', encoding="utf-8")
    assert load_settings(path).store.url == url


def test_defaults_and_the_environment_stay_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mailgate.toml"
    path.write_text("[rules]\nbody_max_zi = 500\n", encoding="utf-8")
    monkeypatch.setenv("MAILGATE_TRANSPORT__DIRECTORY", "spool/outbox")
    settings = load_settings(path)
    assert settings.store.url == "sqlite+aiosqlite:///var/mailgate.db"
    assert settings.store.sqlite_file == Path("var/mailgate.db")
    assert settings.source.daily == Path("var/mail/daily")
    assert settings.transport.directory == Path("spool/outbox")


def _path_fields(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    found = set()
    for name, field in model.model_fields.items():
        kinds = typing.get_args(field.annotation) if isinstance(field.annotation, types.UnionType) else ()
        for kind in kinds or (field.annotation,):
            if kind is Path:
                found.add((*prefix, name))
            elif isinstance(kind, type) and issubclass(kind, BaseModel):
                found |= _path_fields(kind, (*prefix, name))
    return found


def test_every_path_setting_is_made_relative_to_the_file() -> None:
    assert _path_fields(Settings) == set(FILE_RELATIVE)


def _dump(settings: Settings) -> dict[str, Any]:
    return settings.model_dump(exclude={"registry_file"})


def test_the_example_config_is_valid_and_shows_the_defaults() -> None:
    example = Path(__file__).resolve().parent.parent / "config" / "mailgate.example.toml"
    settings = load_settings(example)
    assert _dump(settings) == _dump(load_settings())


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
