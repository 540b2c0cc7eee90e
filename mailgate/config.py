"""Settings: one TOML file plus MAILGATE_* environment variables, validated at start."""

from __future__ import annotations

import re
import string
import tomllib
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from mailgate.errors import ConfigurationError
from mailgate.mail.counting import CountMode

if TYPE_CHECKING:
    from rules.base import Rule

SeverityName = Literal["reject", "warn", "ignore", "off"]

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")


def _invalid(reason: str) -> PydanticCustomError:
    """A validation error whose message is ``reason`` as it is (no "Value error, " prefix)."""
    return PydanticCustomError("mailgate_setting", "{reason}", {"reason": reason})


def _one_line(value: str) -> str:
    """A value that ends up in a mail header or a protocol command: no line breaks, no controls."""
    if _CONTROL.search(value):
        raise _invalid(f"must be one line without control characters, not {value!r}")
    return value


def _header_word(value: str) -> str:
    _one_line(value)
    if not value.strip():
        raise _invalid("must not be empty")
    return value


def _address(value: str) -> str:
    """One plain address such as ``inf@gzy.gov.cn``: an ASCII dot-atom local part and a host name,
    as a 7-bit message carries it (no display name, no quoting, no list)."""
    _one_line(value)
    local, at, domain = value.rpartition("@")
    if not at or _DOT_ATOM.fullmatch(local) is None or len(local) > 64 or _host(domain) is None:
        raise _invalid(f"{value!r} is not an e-mail address (one address such as inf@gzy.gov.cn)")
    return value


def _host(domain: str) -> str | None:
    """``domain`` as an ASCII host name (IDNA-encoded when it is not ASCII), or None if it is not one."""
    try:
        ascii_domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    return ascii_domain if _DOMAIN.fullmatch(ascii_domain) and len(ascii_domain) <= 253 else None


def _domain(value: str) -> str:
    if _host(value) != value:
        raise _invalid(f"{value!r} is not a domain name")
    return value


#: Strings that end up in mail headers or IMAP/SMTP commands.
OneLine = Annotated[str, AfterValidator(_one_line)]
HeaderWord = Annotated[str, AfterValidator(_header_word)]
EmailAddress = Annotated[str, AfterValidator(_address)]
DomainName = Annotated[str, AfterValidator(_domain)]


class RulesSettings(BaseModel):
    """Limits, severities and message overrides for the rule set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    counting: CountMode = CountMode.WORD
    body_max_zi: int = Field(450, gt=0)
    attachment_max_zi: int = Field(4000, gt=0)
    max_message_bytes: int = Field(25 * 1024 * 1024, gt=0)
    clock_skew_minutes: int = Field(15, ge=0)
    stale_days: int = Field(7, ge=0)
    #: Local time zone of the units: the calendar date of a 落款 is read in it.
    timezone: str = "Asia/Shanghai"
    #: Per-rule severity overrides, e.g. ``{"clock-skew" = "off"}``.
    severities: dict[str, SeverityName] = Field(default_factory=dict)
    #: Per-message overrides of rule messages, keyed ``"rule"`` or ``"rule.reason"``.
    messages: dict[str, str] = Field(default_factory=dict)
    #: authserv-ids whose Authentication-Results headers are trusted (our own MTA's).
    trusted_authserv_ids: list[OneLine] = Field(default_factory=list)
    #: Value of the X-Loop header mailgate puts on its own notices.
    loop_marker: HeaderWord = "mailgate"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The units' time zone (``timezone``; checked when the settings are loaded)."""
        return zoneinfo.ZoneInfo(self.timezone)


class StoreSettings(BaseModel):
    """Where verdicts, items and replies are kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: SQLAlchemy async URL: SQLite (embedded default) or ``postgresql+asyncpg://user@host/db``.
    url: str = "sqlite+aiosqlite:///var/mailgate.db"
    #: Migrate the database to the current schema when the daemon starts.
    auto_migrate: bool = True
    #: Keep every message's raw bytes in the database (the rejection log shows the original).
    keep_raw: bool = True

    @field_validator("url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            url = make_url(value)
        except (ArgumentError, ValueError):
            # Not echoed: the URL may hold a password.
            raise _invalid("not a database URL (like postgresql+asyncpg://user@host/db)") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise _invalid(f"mailgate keeps its store in SQLite or PostgreSQL, not {url.get_backend_name()}")
        try:
            is_async = url.get_dialect().is_async
        except NoSuchModuleError:
            is_async = False
        if not is_async:
            raise _invalid(
                f"{url.drivername} is not an asyncio driver: use sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return value

    @property
    def sqlite_file(self) -> Path | None:
        """The database file of a SQLite store; None for other databases and in-memory SQLite."""
        from sqlalchemy.engine import make_url  # SQLAlchemy only when a store is wanted
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(self.url)
        except (ArgumentError, ValueError):
            return None
        database = url.database
        if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
            return None
        if database.startswith("file:"):  # SQLite URI form, ?uri=true
            database = database[len("file:") :].split("?", 1)[0]
            return Path(database) if database and database != ":memory:" else None
        return Path(database)


class Secret(BaseModel):
    """A password given inline (better: by environment variable) or read from a file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    password: SecretStr | None = None
    password_file: Path | None = None

    def secret(self) -> str | None:
        """The password, read from ``password_file`` when that is set (trailing newline dropped)."""
        if self.password_file is not None:
            try:
                return self.password_file.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise ConfigurationError(f"cannot read password file {self.password_file}: {exc}") from exc
        return self.password.get_secret_value() if self.password is not None else None


class ImapAccount(Secret):
    """The login of one watched mailbox."""

    username: OneLine = Field(min_length=1)
    #: The folder watched for new mail.
    mailbox: HeaderWord = "INBOX"


class FolderSettings(BaseModel):
    """The folders messages are moved to by verdict (``filing = "move"``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accepted: HeaderWord = "Processed"
    rejected: HeaderWord = "Rejected"
    ignored: HeaderWord = "Ignored"
    quarantined: HeaderWord = "Quarantine"


class ImapSettings(BaseModel):
    """The IMAP server both inboxes live on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int | None = Field(None, gt=0, lt=65536)  # default: 993 for tls, else 143
    #: Implicit TLS, or none (a trusted network only): the IMAP client library has no STARTTLS.
    security: Literal["tls", "none"] = "tls"
    timeout_seconds: float = Field(60.0, gt=0)
    #: Use IDLE when the server offers it, re-issued well before the 29-minute limit.
    idle: bool = True
    idle_renew_seconds: float = Field(25 * 60, gt=0, le=29 * 60)
    #: How often to look for mail when IDLE is off or not offered.
    poll_seconds: float = Field(30.0, gt=0)
    #: UIDs fetched per command: bounded, so large mailboxes never overflow a command line.
    batch: int = Field(100, gt=0, le=1000)
    #: Reconnect backoff: exponential from ``backoff_min`` to ``backoff_max`` seconds, with jitter.
    backoff_min_seconds: float = Field(1.0, gt=0)
    backoff_max_seconds: float = Field(300.0, gt=0)
    #: What to do with a message once its verdict is committed.
    filing: Literal["move", "seen", "none"] = "move"
    folders: FolderSettings = Field(default_factory=lambda: FolderSettings())
    daily: ImapAccount | None = None
    commissioned: ImapAccount | None = None

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)

    @model_validator(mode="after")
    def _backoff_range(self) -> ImapSettings:
        if self.backoff_max_seconds < self.backoff_min_seconds:
            raise ValueError("backoff_max_seconds must not be less than backoff_min_seconds")
        return self


class SourceSettings(BaseModel):
    """Where messages come from: local Maildir folders (embedded default) or IMAP."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["maildir", "imap"] = "maildir"
    #: The Maildir folders of the two inboxes.
    daily: Path = Path("var/mail/daily")
    commissioned: Path = Path("var/mail/commissioned")
    imap: ImapSettings = Field(default_factory=lambda: ImapSettings())

    @model_validator(mode="after")
    def _accounts_for_imap(self) -> SourceSettings:
        if self.kind == "imap":
            missing = [name for name in ("daily", "commissioned") if getattr(self.imap, name) is None]
            if missing:
                raise ValueError(f"source.kind is imap but [source.imap.{missing[0]}] is missing")
        return self


class SmtpSettings(Secret):
    """The SMTP server replies are sent through."""

    host: str = "127.0.0.1"
    port: int | None = Field(None, gt=0, lt=65536)  # default: 465 for tls, 587 for starttls, else 25
    security: Literal["tls", "starttls", "none"] = "starttls"
    username: OneLine | None = None
    timeout_seconds: float = Field(60.0, gt=0)

    @property
    def effective_port(self) -> int:
        return self.port or {"tls": 465, "starttls": 587, "none": 25}[self.security]


class TransportSettings(BaseModel):
    """Where replies go: ``.eml`` files (embedded default) or SMTP."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["files", "smtp"] = "files"
    directory: Path = Path("var/outbox")
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)


class ReplySettings(BaseModel):
    """Who replies, to whom urgent items go, and how often one address may be answered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    from_address: EmailAddress = "inf@gzy.gov.cn"
    from_name: OneLine = "市政府办公厅新闻信息处"
    #: Urgent items (【紧急】/【重大】) are also sent here at once; empty: no alerts.
    editors_address: EmailAddress | None = None
    #: Operator templates: a directory with zh-Hans/ and zh-Hant/ subfolders.
    template_dir: Path | None = None
    #: Domain for the Message-IDs of replies.
    domain: DomainName = "mailgate.invalid"
    #: At most this many automatic replies to one registered officer's address per hour.
    per_address_per_hour: int = Field(20, ge=0)
    #: Notices to unregistered senders (often forged From addresses): ``daily`` sends one short notice
    #: per address per calendar day that quotes nothing of theirs; ``none`` sends none at all.
    strangers: Literal["daily", "none"] = "daily"
    #: At most this many notices to unregistered senders per hour, all addresses together; more wait.
    strangers_per_hour: int = Field(100, gt=0)
    #: No reply to mail that arrived longer ago than this (a backlog found on first start).
    max_age_hours: float = Field(72.0, gt=0)
    #: Sending: attempts before a reply is given up as failed, and the retry backoff.
    max_attempts: int = Field(12, gt=0)
    retry_min_seconds: float = Field(5.0, gt=0)
    retry_max_seconds: float = Field(1800.0, gt=0)

    @field_validator("editors_address", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value


class ProcessingSettings(BaseModel):
    """What happens to messages that make processing fail."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Attempts before a failing message is quarantined for ops.
    max_attempts: int = Field(3, gt=0)


class WebSettings(BaseModel):
    """The desk's web application: where it listens, its session key, who may scrape its metrics."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(8080, gt=0, lt=65536)
    #: Signs the session cookies: required unless the desk listens on loopback only.
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    #: Mark cookies Secure even on plain HTTP (behind a TLS-terminating proxy that does not say so).
    secure_cookies: bool = False
    #: When set, /metrics requires ``Authorization: Bearer <token>``; beyond loopback, /metrics needs one.
    metrics_token: SecretStr | None = None
    metrics_token_file: Path | None = None
    #: A daemon component silent for longer than this is unhealthy.
    stale_seconds: float = Field(600.0, gt=0)
    #: How long a sign-in lasts.
    session_hours: float = Field(12.0, gt=0)

    def secret(self) -> str | None:
        """The session key, read from ``secret_key_file`` when that is set; None when empty or unset."""
        if self.secret_key_file is not None:
            try:
                return self.secret_key_file.read_text(encoding="utf-8").strip() or None
            except OSError as exc:
                raise ConfigurationError(f"cannot read {self.secret_key_file}: {exc}") from exc
        return (self.secret_key.get_secret_value() if self.secret_key is not None else "") or None

    def metrics_secret(self) -> str | None:
        """The /metrics bearer token, read from ``metrics_token_file`` when that is set; None when unset."""
        if self.metrics_token_file is not None:
            try:
                return self.metrics_token_file.read_text(encoding="utf-8").strip() or None
            except OSError as exc:
                raise ConfigurationError(f"cannot read {self.metrics_token_file}: {exc}") from exc
        return (self.metrics_token.get_secret_value() if self.metrics_token is not None else "") or None


class Settings(BaseSettings):
    """All of mailgate's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="MAILGATE_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    registry_file: Path | None = None
    #: Language of notices and reports: Simplified (default) or Traditional Chinese.
    script: Literal["zh-Hans", "zh-Hant"] = "zh-Hans"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    rules: RulesSettings = Field(default_factory=RulesSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    source: SourceSettings = Field(default_factory=SourceSettings)
    transport: TransportSettings = Field(default_factory=TransportSettings)
    replies: ReplySettings = Field(default_factory=ReplySettings)
    processing: ProcessingSettings = Field(default_factory=ProcessingSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file, which comes in as init arguments.
        return (env_settings, init_settings, file_secret_settings)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The units' time zone: the one source of it for everything that shows or reads local time."""
        return self.rules.zone

    @model_validator(mode="after")
    def _rules_exist(self) -> Settings:
        problems = rule_problems(self.rules)
        if problems:
            raise _invalid("\n  ".join(problems))
        return self


#: Settings naming files or folders: a relative value in a config file is relative to the file's folder.
FILE_RELATIVE: tuple[tuple[str, ...], ...] = (
    ("registry_file",),
    ("source", "daily"),
    ("source", "commissioned"),
    ("source", "imap", "daily", "password_file"),
    ("source", "imap", "commissioned", "password_file"),
    ("transport", "directory"),
    ("transport", "smtp", "password_file"),
    ("replies", "template_dir"),
    ("web", "secret_key_file"),
    ("web", "metrics_token_file"),
)


def load_settings(path: Path | None = None) -> Settings:
    """Read ``path`` (TOML) if given, overlay the environment, and validate the lot."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"cannot read config file {path}: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"config file {path} is not valid TOML: {exc}") from exc
        _anchor(data, path.parent)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigurationError(_describe(exc, path)) from exc


def _anchor(data: dict[str, Any], base: Path) -> None:
    """Make the relative paths in ``data`` (a config file's tables) relative to ``base``, its folder."""
    for keys in FILE_RELATIVE:
        table: Any = data
        for key in keys[:-1]:
            table = table.get(key) if isinstance(table, dict) else None
        if isinstance(table, dict) and isinstance(table.get(keys[-1]), str):
            table[keys[-1]] = str((base / Path(table[keys[-1]]).expanduser()).resolve())
    store = data.get("store")
    if isinstance(store, dict) and isinstance(store.get("url"), str):
        store["url"] = _anchor_sqlite(store["url"], base)


def _anchor_sqlite(url: str, base: Path) -> str:
    """``url`` with a relative SQLite database path made relative to ``base``; other URLs as they are."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return url  # the store reports it
    database = parsed.database
    if (
        parsed.get_backend_name() != "sqlite"
        or not database
        or database == ":memory:"
        or database.startswith("file:")
        or Path(database).is_absolute()
    ):
        return url
    return parsed.set(database=str((base / database).resolve())).render_as_string(hide_password=False)


def rule_problems(settings: RulesSettings) -> list[str]:
    """What is wrong with the time zone, severities and message overrides, one line each."""
    problems = []
    try:
        zoneinfo.ZoneInfo(settings.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        problems.append(
            f"rules.timezone: unknown time zone {settings.timezone!r} (an IANA name such as 'Asia/Shanghai')"
        )
    if not settings.severities and not settings.messages:
        return problems
    # Imported here: the rules import this module, and loading them is only needed to check overrides.
    from rules import default_rules

    known = {rule.name: rule for rule in default_rules()}
    for name in settings.severities:
        if name not in known:
            problems.append(f"rules.severities.{name}: no such rule (`mailgate rules` lists them)")
    for key, template in settings.messages.items():
        problem = _message_problem(key, template, known)
        if problem:
            problems.append(f"rules.messages.{key}: {problem}")
    return problems


def _message_problem(key: str, template: str, known: Mapping[str, Rule]) -> str | None:
    """Why the override ``key = template`` cannot work, if it cannot."""
    name, _, reason = key.partition(".")
    rule = known.get(name)
    if rule is None:
        return "no such rule (`mailgate rules` lists them)"
    if reason and reason not in rule.messages:
        return f"{name} has no message {reason!r} (it has: {', '.join(rule.messages)})"
    # A rule-wide override stands in for every message of the rule: only what all of them have.
    replaced = [rule.messages[reason]] if reason else list(rule.messages.values())
    allowed = set.intersection(*(_placeholders(text) for text in replaced))
    try:
        used = _placeholders(template)
    except ValueError as exc:
        return f"not a valid message template: {exc}"
    unknown = sorted(used - allowed)
    if not unknown:
        return None
    has = ", ".join(f"{{{p}}}" for p in sorted(allowed)) or "none"
    unknown_text = ", ".join(f"{{{p}}}" for p in unknown)
    if reason or len(replaced) == 1:
        return f"unknown placeholder {unknown_text} (the message's placeholders: {has})"
    return (
        f"unknown placeholder {unknown_text} (placeholders every message of {name} has: {has}; "
        f'for one message only, use a key "{name}.<reason>")'
    )


def _placeholders(template: str) -> set[str]:
    """The parameter names ``template`` uses: ``{count}``, ``{count:>4}`` and ``{count.real}`` name count."""
    names = set()
    for _, field, spec, _ in string.Formatter().parse(template):
        if field is None:
            continue
        names.add(re.split(r"[.\[]", field, maxsplit=1)[0])
        if spec:
            names |= _placeholders(spec)
    return names


def _describe(exc: ValidationError, path: Path | None) -> str:
    where = f" in {path}" if path else ""
    lines = [f"invalid configuration{where}:"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        # Checks across settings (Settings._rules_exist) name their keys in the message itself.
        lines.append(f"  {loc}: {err['msg']}" if loc else f"  {err['msg']}")
    return "\n".join(lines)
