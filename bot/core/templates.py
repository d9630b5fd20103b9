"""Reply templates: an office's standard replies, their placeholders checked and filled."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.core import roles
from bot.core.case import Case
from bot.core.catalogue import Msg
from bot.core.text import clean_text

# What a template may say about the case it answers, and about the office.
CASE_FIELDS = ("first_name", "reference", "organisation", "caseworker")
OFFICE_FIELDS = ("mp_name", "constituency", "office_phone", "office_email", "office_address")
FIELDS = (*CASE_FIELDS, *OFFICE_FIELDS)
ALLOWED = ", ".join("{" + field + "}" for field in FIELDS)
NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
BODY_LIMIT = 3000


class TemplateError(ValueError):
    """A template that cannot be used, or cannot be saved: ``msg`` says why in one line."""

    def __init__(self, msg: Msg) -> None:
        """Keep the text that tells the office what is wrong."""
        super().__init__(msg.key, dict(msg.params))
        self.msg = msg


@dataclass(frozen=True, slots=True)
class ReplyTemplate:
    """A standard reply by name: its text with placeholders, and who changed it last, when."""

    name: str
    body: str
    updated_at: datetime | None = None
    updated_by: int | None = None


def check_name(name: str) -> str:
    """Return a template's name as stored (lower case), or raise TemplateError."""
    key = name.strip().lstrip("#").casefold()
    if not NAME.fullmatch(key):
        raise TemplateError(Msg("template.bad_name", {"name": name.strip()[:40]}))
    return key


def check_body(body: str) -> str:
    """Return a template's text, cleaned, or raise TemplateError naming what is wrong."""
    text = clean_text(body)
    if not text:
        raise TemplateError(Msg("template.empty"))
    if len(text) > BODY_LIMIT:
        raise TemplateError(Msg("template.too_long", {"limit": f"{BODY_LIMIT:,}"}))
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        raise TemplateError(Msg("template.stray_brace", {"allowed": ALLOWED})) from None
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in FIELDS or spec or conversion:
            shown = (
                "{"
                + field
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
            raise TemplateError(
                Msg("template.unknown_placeholder", {"placeholder": shown, "allowed": ALLOWED})
            )
    return text


def first_name(case: Case) -> str:
    """Return the first name of the person who wrote in (the helper, for someone else)."""
    name = case.answers.get(roles.FULL_NAME) or ""
    return name.split()[0] if name.split() else ""


def case_values(case: Case, caseworker: str, office: Mapping[str, str]) -> dict[str, str]:
    """Return every placeholder's value for a reply on ``case`` by ``caseworker``."""
    values = {field: office.get(field, "") for field in OFFICE_FIELDS}
    values.update(
        first_name=first_name(case),
        reference=case.reference,
        organisation=case.answers.get(roles.ORGANISATION) or "",
        caseworker=caseworker,
    )
    return values


def fill(body: str, values: Mapping[str, str]) -> str:
    """Return a checked template's text with its placeholders filled."""
    return check_body(body).format_map({field: values.get(field, "") for field in FIELDS})
