"""Settings: one TOML file plus MAILGATE_* environment variables, validated at start."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
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


class Settings(BaseSettings):
    """All of mailgate's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="MAILGATE_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    registry_file: Path | None = None
    #: Language of notices and reports: Simplified (default) or Traditional Chinese.
    script: Literal["zh-Hans", "zh-Hant"] = "zh-Hans"
    rules: RulesSettings = Field(default_factory=RulesSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)

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
