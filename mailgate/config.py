"""Settings: one TOML file plus MAILGATE_* environment variables, validated at start."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from mailgate.errors import ConfigurationError
from mailgate.mail.counting import CountMode

SeverityName = Literal["reject", "warn", "ignore", "off"]


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
    trusted_authserv_ids: list[str] = Field(default_factory=list)
    #: Value of the X-Loop header mailgate puts on its own notices.
    loop_marker: str = "mailgate"


class StoreSettings(BaseModel):
    """Where verdicts, items and replies are kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: SQLAlchemy async URL: SQLite (embedded default) or ``postgresql+asyncpg://user@host/db``.
    url: str = "sqlite+aiosqlite:///var/mailgate.db"
    #: Migrate the database to the current schema when the daemon starts.
    auto_migrate: bool = True
    #: Keep every message's raw bytes in the database (the rejection log shows the original).
    keep_raw: bool = True


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

    username: str = Field(min_length=1)
    #: The folder watched for new mail.
    mailbox: str = "INBOX"


class FolderSettings(BaseModel):
    """The folders messages are moved to by verdict (``filing = "move"``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accepted: str = "Processed"
    rejected: str = "Rejected"
    ignored: str = "Ignored"
    quarantined: str = "Quarantine"


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
    username: str | None = None
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

    from_address: str = "inf@gzy.gov.cn"
    from_name: str = "市政府办公厅新闻信息处"
    #: Urgent items (【紧急】/【重大】) are also sent here at once; empty: no alerts.
    editors_address: str | None = None
    #: Operator templates: a directory with zh-Hans/ and zh-Hant/ subfolders.
    template_dir: Path | None = None
    #: Domain for the Message-IDs of replies.
    domain: str = "mailgate.invalid"
    #: At most this many automatic replies to one address per hour.
    per_address_per_hour: int = Field(20, ge=0)
    #: No reply to mail that arrived longer ago than this (a backlog found on first start).
    max_age_hours: float = Field(72.0, gt=0)
    #: Sending: attempts before a reply is given up as failed, and the retry backoff.
    max_attempts: int = Field(12, gt=0)
    retry_min_seconds: float = Field(5.0, gt=0)
    retry_max_seconds: float = Field(1800.0, gt=0)


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
    #: When set, /metrics requires ``Authorization: Bearer <token>``.
    metrics_token: SecretStr | None = None
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
        base = path.parent
        if isinstance(data.get("registry_file"), str):
            data["registry_file"] = str((base / data["registry_file"]).resolve())
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigurationError(_describe(exc, path)) from exc


def _describe(exc: ValidationError, path: Path | None) -> str:
    where = f" in {path}" if path else ""
    lines = [f"invalid configuration{where}:"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {loc}: {err['msg']}")
    return "\n".join(lines)
