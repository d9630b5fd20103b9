"""Settings: the only reader of the environment (and of a local ``.env`` file)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    reference_prefix: str = Field(default="MP", pattern=r"^[A-Z]{1,6}$")
    response_days: int = Field(default=10, ge=1, le=60)
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
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")

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
    def _not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("not a chat id")
        return value

    @field_validator("urgent_keywords", mode="before")
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
    "staff_chat_id": "the staff group's chat id, like -1001234567890",
    "staff_user_ids": "staff user ids with the name to show, like 123456789:Sam,987654321:Priya",
    "category_routes": "category:staff pairs, like immigration:Priya,benefits:Sam",
}


def describe_errors(error: ValidationError) -> list[str]:
    """Turn a settings error into one plain line per setting, naming what it expects."""
    lines = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "settings"
        expected = EXPECTED.get(name, item["msg"].lower())
        problem = "is missing" if item["type"] == "missing" else "is not valid"
        lines.append(f"Setting {name.upper()} {problem}: expected {expected}.")
    return lines
