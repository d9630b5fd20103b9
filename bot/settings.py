"""Settings: the only reader of the environment (and of the office's ``.env`` file)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import time
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from bot.core.staff import StaffMember, parse_routes, parse_staff
from bot.loading import FLOWS_DIR


class Settings(BaseSettings):
    """Everything an office configures; see .env.example for each setting."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr
    telegram_api_base_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    database_path: Path = Path("data/casework.sqlite3")
    flows_dir: Path = FLOWS_DIR
    constituency_code: str = Field(pattern=r"^[EWSN]\d{8}$")
    mp_name: str = Field(min_length=2, max_length=80)
    office_phone: str = Field(min_length=3, max_length=40)
    office_email: str = Field(min_length=3, max_length=120)
    office_address: str = Field(min_length=3, max_length=300)
    staff_chat_id: int = Field(description="the staff group's chat id")
    staff_user_ids: Annotated[tuple[StaffMember, ...], NoDecode] = Field(min_length=1)
    category_routes: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    # Names or user ids from STAFF_USER_IDS who are office managers (first run only).
    office_managers: Annotated[tuple[str, ...], NoDecode] = ()
    reference_prefix: str = Field(default="MP", pattern=r"^[A-Z]{1,6}$")
    response_days: int = Field(default=10, ge=1, le=60)
    # When the daily digest is posted in the staff group (London time); None: never.
    digest_time: time | None = time(9, 0)
    retention_years: int = Field(default=2, ge=1, le=10)
    draft_reminder_hours: int = Field(default=24, ge=1, le=24 * 30)
    draft_expiry_days: int = Field(default=7, ge=1, le=90)
    sweep_minutes: int = Field(default=60, ge=1, le=24 * 60)
    urgent_deadline_days: int = Field(default=14, ge=0, le=365)
    urgent_keywords: Annotated[tuple[str, ...], NoDecode] = (
        "eviction",
        "evicted",
        "bailiff",
        "deportation",
        "deported",
        "removal directions",
        "suicide",
        "domestic abuse",
        "homeless",
    )
    flood_messages: int = Field(default=40, ge=1, le=1000)
    flood_seconds: int = Field(default=60, ge=1, le=3600)
    flood_pause_seconds: int = Field(default=300, ge=1, le=86400)
    telegram_poll_timeout: int = Field(default=10, ge=1, le=50)
    telegram_read_timeout: float = Field(default=5.0, gt=0, le=120)
    outbox_retry_seconds: float = Field(default=2.0, gt=0, le=300)
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    webhook_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    webhook_secret: SecretStr | None = None
    webhook_listen: str = Field(default="127.0.0.1", min_length=1, max_length=255)
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    desk_enabled: bool = True
    desk_host: str = Field(default="127.0.0.1", min_length=1, max_length=255, pattern=r"^\S+$")
    desk_port: int = Field(default=8080, ge=1, le=65535)
    desk_public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    # Empty: English, and Welsh too in a constituency in Wales (see Office.languages).
    languages: Annotated[tuple[str, ...], NoDecode] = ()

    @field_validator("digest_time", mode="before")
    @classmethod
    def _read_time(cls, value: object) -> object:
        # "DIGEST_TIME=" turns the digest off; "9:00" and "09:00" are both nine o'clock.
        if isinstance(value, str):
            if not value.strip():
                return None
            if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value.strip()):
                raise ValueError("not a time")
            hours, minutes = value.strip().split(":")
            return time(int(hours), int(minutes))
        return value

    @field_validator(
        "telegram_api_base_url", "webhook_url", "webhook_secret", "desk_public_url", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # "TELEGRAM_API_BASE_URL=" in a .env file means "not set", as .env.example shows it.
        if isinstance(value, str | SecretStr) and not str(_reveal(value)).strip():
            return None
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's rule for secret_token: 1-256 characters, A-Z, a-z, 0-9, _ and -.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("not a webhook secret")
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not re.fullmatch(r"\d+:[A-Za-z0-9_-]{5,}", value.get_secret_value()):
            raise ValueError("not a bot token")
        return value

    @field_validator("staff_user_ids", mode="before")
    @classmethod
    def _read_staff(cls, value: object) -> object:
        return tuple(parse_staff(value)) if isinstance(value, str) else value

    @field_validator("category_routes", mode="before")
    @classmethod
    def _read_routes(cls, value: object) -> object:
        return parse_routes(value) if isinstance(value, str) else value

    @field_validator("staff_chat_id")
    @classmethod
    def _a_group(cls, value: int) -> int:
        if value == 0:
            raise ValueError("not a chat id")
        if value > 0:
            # Positive ids are people: staff cards would go to one person's private chat.
            raise HintError(f"{value} is a person's id; group ids are negative")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.draft_reminder_hours >= self.draft_expiry_days * 24:
            raise HintError(
                f"Setting DRAFT_REMINDER_HOURS is not valid: the reminder after"
                f" {self.draft_reminder_hours} hours must come before the deletion after"
                f" DRAFT_EXPIRY_DAYS={self.draft_expiry_days} ({self.draft_expiry_days * 24}"
                " hours)."
            )
        if self.webhook_url is not None and self.webhook_secret is None:
            raise HintError(
                "Setting WEBHOOK_SECRET is missing: expected a secret of letters, digits, _ and -"
                " (1 to 256), required with WEBHOOK_URL so that only Telegram can post updates."
            )
        plain_http = self.webhook_url is not None and self.webhook_url.startswith("http://")
        if plain_http and self.telegram_api_base_url is None:
            raise HintError(
                "Setting WEBHOOK_URL is not valid: expected an https:// URL (Telegram posts"
                " only to HTTPS; http:// works only with a self-hosted TELEGRAM_API_BASE_URL)."
            )
        return self

    def located(self, folder: Path) -> Settings:
        """Return these settings with relative paths taken from ``folder``."""
        changes = {
            name: folder / path
            for name, path in (("database_path", self.database_path), ("flows_dir", self.flows_dir))
            if not path.is_absolute() and str(path) != ":memory:"
        }
        return self.model_copy(update=changes)

    @field_validator("languages", mode="before")
    @classmethod
    def _split_languages(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(code.strip().lower() for code in value.split(",") if code.strip())
        return value

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not re.fullmatch(r"[a-z]{2,3}", code):
                raise ValueError(f"{code!r} is not a language code such as en or cy")
        if value and value[0] != "en":
            raise ValueError("start with en: the office's own texts are in English")
        if len(set(value)) != len(value):
            raise ValueError("a language is given twice")
        return value

    @field_validator("urgent_keywords", "office_managers", mode="before")
    @classmethod
    def _split_keywords(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(word.strip() for word in value.split(",") if word.strip())
        return value

    @property
    def file_base_url(self) -> str | None:
        """Return the file download URL that goes with ``telegram_api_base_url``."""
        base = self.telegram_api_base_url
        if base is None:
            return None
        root, _, tail = base.rstrip("/").rpartition("/")
        return f"{root}/file/{tail}"

    @property
    def desk_url(self) -> str:
        """Return the desk's address as login links give it (DESK_PUBLIC_URL, else host:port)."""
        if self.desk_public_url is not None:
            return self.desk_public_url.rstrip("/")
        listen = self.webhook_listen if self.desk_shares_webhook else self.desk_host
        host = f"[{listen}]" if ":" in listen else listen
        return f"http://{host}:{self.desk_port}"

    @property
    def desk_shares_webhook(self) -> bool:
        """Tell whether the desk is served by the webhook's server (the same port, 8080 both)."""
        return (
            self.desk_enabled
            and self.webhook_url is not None
            and self.desk_port == self.webhook_port
        )

    @property
    def webhook_path(self) -> str:
        """Return the path of WEBHOOK_URL, where the webhook server takes Telegram's posts."""
        if self.webhook_url is None:
            return "/"
        _, _, rest = self.webhook_url.partition("://")
        _, slash, path = rest.partition("/")
        return slash + path if path else "/"


def _reveal(value: str | SecretStr) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


class HintError(ValueError):
    """A setting's fault that says more than what the setting expects."""


EXPECTED = {
    "telegram_bot_token": "the token from @BotFather, like 123456789:AAE...",
    "telegram_api_base_url": "a URL like http://127.0.0.1:8081/bot",
    "constituency_code": "a 2024 constituency GSS code, like E14001520",
    "reference_prefix": "1 to 6 capital letters, like MP",
    "mp_name": "the MP's name as constituents should see it, like Jo Example",
    "office_phone": "the office phone number shown to constituents",
    "office_email": "the office email address shown to constituents",
    "office_address": "the office postal address shown to constituents",
    "log_level": "one of DEBUG, INFO, WARNING, ERROR",
    "telegram_poll_timeout": "seconds from 1 to 50",
    "telegram_read_timeout": "seconds, more than 0 and at most 120",
    "outbox_retry_seconds": "seconds, more than 0 and at most 300",
    "staff_chat_id": "the staff group's chat id, like -1001234567890",
    "staff_user_ids": "staff user ids with the name to show, like 123456789:Sam,987654321:Priya",
    "category_routes": "category:staff pairs, like immigration:Priya,benefits:Sam",
    "office_managers": "names or user ids from STAFF_USER_IDS, like Sam",
    "webhook_url": "the public https:// URL Telegram posts updates to, like"
    " https://bot.example.org/telegram",
    "webhook_secret": "1 to 256 letters, digits, _ and -, like a long random string",
    "webhook_port": "a port number from 1 to 65535",
    "database_path": "a file path, like data/casework.sqlite3",
    "digest_time": "a time of day in London as HH:MM, like 09:00, or nothing to turn it off",
    "desk_enabled": "true or false",
    "desk_host": "the address the staff desk listens on, like 127.0.0.1",
    "desk_port": "a port number from 1 to 65535",
    "desk_public_url": "the desk's address as staff open it, like https://desk.example.org",
}


def describe_errors(error: ValidationError) -> list[str]:
    """Turn a settings error into one plain line per setting, naming what it expects."""
    lines = []
    for item in error.errors():
        hint = item.get("ctx", {}).get("error")
        if not item["loc"] and isinstance(hint, HintError):
            lines.append(str(hint))  # a fault of two settings together, said in full
            continue
        name = str(item["loc"][0]) if item["loc"] else "settings"
        expected = EXPECTED.get(name, item["msg"].lower())
        problem = "is missing" if item["type"] == "missing" else "is not valid"
        detail = f" ({hint})" if isinstance(hint, HintError) else ""
        lines.append(f"Setting {name.upper()} {problem}: expected {expected}{detail}.")
    return lines


# Where the office's settings file is looked for when no --env-file is given.
ENV_FILE_VARIABLE = "CASEWORK_ENV_FILE"


class SettingsFileError(Exception):
    """The settings file named cannot be read: the message is one plain line."""


def settings_file(given: Path | None = None) -> Path:
    """Return the office's settings file: the one given, else $CASEWORK_ENV_FILE, else ./.env."""
    if given is not None:
        return given
    named = os.environ.get(ENV_FILE_VARIABLE, "").strip()
    return Path(named) if named else Path(".env")


def load_settings(given: Path | None = None) -> Settings:
    """Read the settings; relative paths in them are taken from the settings file's folder.

    Raises ValidationError for a bad setting and SettingsFileError for a file that is named
    but missing, or not UTF-8 text.
    """
    path = settings_file(given)
    explicit = given is not None or bool(os.environ.get(ENV_FILE_VARIABLE, "").strip())
    if not path.is_file():
        if explicit:
            raise SettingsFileError(f"Settings file {path} does not exist or is not a file.")
        return Settings(_env_file=None).located(Path.cwd())
    try:
        path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise SettingsFileError(f"Settings file {path} cannot be read: {exc.strerror}.") from exc
    except UnicodeDecodeError as exc:
        raise SettingsFileError(
            f"Settings file {path} is not UTF-8 text (byte {exc.start + 1}); save it as UTF-8."
        ) from exc
    return Settings(_env_file=path).located(path.resolve().parent)


class _Given(Settings):
    """Settings taken only from the values given: no environment, no .env file."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read the values given to the constructor, and nothing else."""
        return (init_settings,)


def settings_from(values: Mapping[str, Any]) -> Settings:
    """Return settings built from ``values`` alone (the demo's built-in office)."""
    return _Given(**values)
