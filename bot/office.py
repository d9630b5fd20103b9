"""One office, loaded and checked before any channel connects: flow, texts, postcode data."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.core.catalogue import Catalogue
from bot.core.dates import dates_in_language
from bot.core.flow import Flow
from bot.core.languages import ENGLISH, offered_by_default
from bot.core.postcodes import Constituency, PostcodeChecker
from bot.core.references import REFERENCE_SPACE
from bot.core.roles import CATEGORY
from bot.core.rules import FloodRules, OfficeRules, RetentionRules, UrgencyRules, spell_duration
from bot.core.staff import StaffDirectory
from bot.core.wording import check_texts
from bot.loading import FLOWS_DIR, load_catalogue, load_flow, load_translation
from bot.settings import Settings
from bot.storage.postcode_index import load_attribution, load_postcode_checker


class SetupError(Exception):
    """The office's configuration cannot work (for example an unknown constituency)."""


@dataclass(frozen=True, slots=True)
class Office:
    """Everything loaded from disk and settings before any channel connects."""

    settings: Settings
    catalogue: Catalogue
    flow: Flow
    postcodes: PostcodeChecker
    constituency: Constituency
    params: dict[str, str]
    staff: StaffDirectory
    rules: OfficeRules
    # The constituent's languages, English first, each with its texts (English: ``catalogue``).
    catalogues: Mapping[str, Catalogue] = field(default_factory=dict)

    @property
    def languages(self) -> tuple[str, ...]:
        """Return the languages a constituent may choose, English first."""
        return tuple(self.catalogues) or (ENGLISH,)

    def texts(self, language: str | None) -> Catalogue:
        """Return the texts of ``language``, or the office's own when it has none such."""
        return self.catalogues.get(language or ENGLISH, self.catalogue)


def prepare(settings: Settings) -> Office:
    """Load and check the flow, texts and postcode data; fail fast on any fault."""
    catalogue = load_catalogue(settings.flows_dir / "locales")
    flow = load_flow(settings.flows_dir / "intake.yaml", catalogue)
    postcodes = load_postcode_checker()
    constituency = postcodes.constituency(settings.constituency_code)
    if constituency is None:
        raise SetupError(
            f"Setting CONSTITUENCY_CODE is not valid: {settings.constituency_code} is not a"
            " 2024 Westminster constituency code."
        )
    staff = StaffDirectory(settings.staff_user_ids, settings.staff_chat_id)
    check_routes(settings, flow, staff)
    params = {
        "mp_name": settings.mp_name,
        "constituency": constituency.name,
        "office_phone": settings.office_phone,
        "office_email": settings.office_email,
        "office_address": settings.office_address,
        "response_days": str(settings.response_days),
        "retention_years": str(settings.retention_years),
        **{
            name: spell_duration(length, catalogue) for name, length in _durations(settings).items()
        },
        "attribution": load_attribution(),
    }
    shipped = settings.flows_dir.resolve() == FLOWS_DIR.resolve()
    reference = catalogue if shipped else load_catalogue(FLOWS_DIR / "locales")
    check_texts(catalogue, reference, flow, params)
    catalogues = {ENGLISH: catalogue}
    for language in settings.languages or offered_by_default(constituency.code):
        check_language(settings, catalogue, language)
        if language != ENGLISH:
            catalogues[language] = _translation(settings, language, catalogue, params, postcodes)
            check_texts(catalogues[language], catalogue, flow, params)
    return Office(
        settings,
        catalogue,
        flow,
        postcodes,
        constituency,
        params,
        staff,
        rules_of(settings),
        catalogues,
    )


def check_language(settings: Settings, english: Catalogue, language: str) -> None:
    """Fail fast if a language in LANGUAGES has no texts, or no name to be chosen by."""
    locales = settings.flows_dir / "locales"
    if language != ENGLISH and not (locales / language).is_dir():
        raise SetupError(
            f"Setting LANGUAGES is not valid: there are no {language} texts in"
            f" {locales / language} (casework-bot translations export {language} FILE.po"
            " gives translators the texts)."
        )
    for key in (f"button.language.{language}", f"language.name.{language}"):
        if key not in english:
            raise SetupError(
                f"Setting LANGUAGES is not valid: {language} needs the English text {key!r}"
                f" in {locales / ENGLISH} (the language's name on its button, and for staff)."
            )


def _translation(
    settings: Settings,
    language: str,
    english: Catalogue,
    params: Mapping[str, str],
    postcodes: PostcodeChecker,
) -> Catalogue:
    """Load a language's texts, with the office's values as they read in it.

    The office's values (the constituency's name, "7 days") are filled into texts when they
    are owed, in English; the translation reads them in its own language when it is shown.
    """
    values = postcodes.names_in(language)

    def localise(value: str) -> str:
        found = values.get(value)
        return found if found is not None else dates_in_language(value, language)

    translated = load_translation(settings.flows_dir / "locales", language, english, localise)
    for name, length in _durations(settings).items():
        values[params[name]] = spell_duration(length, translated)
    return translated


def _durations(settings: Settings) -> dict[str, timedelta]:
    return {
        "draft_expiry": timedelta(days=settings.draft_expiry_days),
        "flood_pause": timedelta(seconds=settings.flood_pause_seconds),
    }


def rules_of(settings: Settings) -> OfficeRules:
    """Return the office's rules as the settings give them."""
    return OfficeRules(
        reference_prefix=settings.reference_prefix,
        routes=settings.category_routes,
        urgency=UrgencyRules(settings.urgent_deadline_days, settings.urgent_keywords),
        retention=RetentionRules(
            reminder_after=timedelta(hours=settings.draft_reminder_hours),
            expire_after=timedelta(days=settings.draft_expiry_days),
            keep_closed=timedelta(days=365 * settings.retention_years),
        ),
        flood=FloodRules(
            settings.flood_messages, settings.flood_seconds, settings.flood_pause_seconds
        ),
    )


def check_routes(settings: Settings, flow: Flow, staff: StaffDirectory) -> None:
    """Fail fast if CATEGORY_ROUTES names a category or a person the office does not have."""
    categories = {o.value for o in flow.step(CATEGORY).options}
    for category, who in settings.category_routes.items():
        if category not in categories:
            raise SetupError(
                f"Setting CATEGORY_ROUTES is not valid: {category!r} is not a category;"
                f" expected one of {', '.join(sorted(categories))}."
            )
        if staff.find(who) is None:
            raise SetupError(
                f"Setting CATEGORY_ROUTES is not valid: {who!r} is not in STAFF_USER_IDS."
            )


def utc_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def random_reference_number() -> int:
    """Return an unpredictable number for a new reference."""
    return secrets.randbelow(REFERENCE_SPACE)
