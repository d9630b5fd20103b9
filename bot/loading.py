"""Read the flows and message catalogues from disk and check them before the bot starts."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.core.case import CaseChannel, CaseStatus, QueueFilter
from bot.core.catalogue import Catalogue, placeholders
from bot.core.desk import desk_text_keys
from bot.core.flow import ANSWERED_BY_BUTTON, Flow, FlowError, StepKind, check_flow, flow_from_data
from bot.core.languages import NAMES, plural_category
from bot.core.postcodes import PostcodeStatus
from bot.core.roles import ROLES
from bot.core.safeguarding import Concern
from bot.core.templates import TemplateError, check_body, check_name
from bot.core.validators import MESSAGES, VALIDATORS

# An installed package has the flows inside it (bot/flows, built from the repository's flows/);
# a source checkout or an editable install reads the repository's own folder.
_PACKAGE = Path(__file__).resolve().parent
FLOWS_DIR = _PACKAGE / "flows" if (_PACKAGE / "flows").is_dir() else _PACKAGE.parent / "flows"

# Texts the code asks for by name, beyond those a flow names.
CODE_TEXTS = (
    "about",
    "help",
    "privacy",
    "intake.group_chat",
    "intake.resume",
    "intake.no_draft",
    "intake.restarted",
    "intake.flow_changed",
    "intake.flow_restarted",
    "button.resume",
    "button.restart",
    "button.back",
    "button.skip",
    "button.send",
    "button.change",
    "button.cancel_yes",
    "button.cancel_no",
    "button.attachments_done",
    "button.attachments_none",
    "button.share_phone",
    "cancel.confirm",
    "cancel.done",
    "notice.cancel_kept",
    "notice.at_start",
    "notice.attachment_saved",
    "notice.stale_button",
    "notice.echo",
    "notice.phone_saved",
    "notice.went_back",
    "notice.keyboard_closed",
    "notice.answer_cut",
    "intake.collecting",
    "button.finish_text",
    "button.change_an_answer",
    "button.back_to_answers",
    "review.which_change",
    "review.in_full",
    "button.postcode_right",
    "button.postcode_right.someone_else",
    "button.postcode_wrong",
    "button.postcode_unchecked",
    "button.suggestion_yes",
    "button.suggestion_no",
    "postcode.confirm_other",
    "postcode.confirm_other.someone_else",
    "postcode.other_constituency.someone_else",
    "postcode.did_you_mean",
    "postcode.not_found_again",
    "error.postcode.confirm",
    "error.email.did_you_mean",
    "error.voice",
    "error.location.postcode",
    "error.location.text",
    "flood.warning",
    "retention.reminder",
    "retention.expired",
    *(f"command.{name}" for name in ("status", "mydata", "delete", "withdraw")),
    "summary.not_given",
    "summary.attachments",
    "confirmation.sent",
    "confirmation.sent_no_consent",
    "postcode.other_constituency",
    "error.review.use_buttons",
    "error.change.not_now",
    "error.cancel.use_buttons",
    "error.attachments.expected",
    "error.internal",
    *(f"command.{name}" for name in ("start", "back", "cancel", "help", "privacy", "about")),
    "language.choose",
    "language.changed",
    "command.language",
    "command.iaith",
    *(f"button.language.{code}" for code in NAMES),
    *(f"duration.{unit}" for unit in ("day", "hour", "minute", "second")),
)


# Staff commands that answer a malformed use with their usage line.
STAFF_USAGE = (
    "block",
    "unblock",
    "case",
    "claim",
    "assign",
    "note",
    "status",
    "close",
    "reply",
    "export",
    "audit",
    "queue",
    "erase",
    "search",
    "followup",
)

# Staff commands in the menu Telegram shows staff (in the staff group and their own chats).
STAFF_MENU = (
    "help",
    "queue",
    "search",
    "case",
    "claim",
    "assign",
    "note",
    "reply",
    "templates",
    "followup",
    "status",
    "close",
    "audit",
    "block",
    "unblock",
    "erase",
    "staff",
    "export",
    "desk",
)


# Texts of the staff side: cards, the queue, case views, command answers, relays.
STAFF_TEXTS = (
    "card.urgent",
    "card.not_urgent",
    "card.body",
    "card.linked",
    "card.on_behalf",
    "card.postcode_unverified",
    "case.on_behalf",
    "card.linked_topic",
    "card.in_topic",
    "card.unassigned",
    "button.claim",
    "button.show",
    "button.close",
    "button.status",
    "button.status_keep",
    "card.status_question",
    "button.prev",
    "button.next",
    "queue.title",
    "queue.empty",
    "queue.row",
    "queue.summary",
    "queue.urgent_mark",
    "case.answers",
    "case.answer_row",
    "case.consent",
    "case.attachments",
    "case.messages",
    "case.history",
    "case.history_row",
    "case.none",
    "case.system",
    "case.constituent",
    "audit.title",
    "audit.empty",
    "staff.refused",
    "staff.desk_link",
    "staff.desk_private",
    "staff.desk_off",
    "staff.not_found",
    "staff.already_done",
    "staff.export_private",
    "staff.safeguarding_alert",
    "card.safeguarding",
    "staff.erase_done",
    "staff.erased",
    "staff.erased_by_retention",
    "card.erase_question",
    "card.erased",
    "card.erased_by_retention",
    "button.erase_yes",
    "button.erase_keep",
    "staff.unknown_staff",
    "staff.assigned",
    "staff.assigned_to_you",
    "staff.noted",
    "staff.replied",
    "staff.status_set",
    "staff.exported",
    "staff.blocked",
    "button.close_resolved",
    "button.close_unable",
    "button.close_keep",
    "card.close_question",
    "staff.unblocked",
    "reply.to_constituent",
    "relay.to_staff",
    "relay.to_staff_many",
    "relay.received",
    "relay.which_case",
    "relay.closed_new_intake",
    "case.closed_to_constituent",
    "mystatus.title",
    "mystatus.row",
    "mystatus.none",
    "card.language",
    *(f"language.name.{code}" for code in NAMES),
    "staff.help",
    "staff.unknown_category",
    "staff.category_choice",
    "staff.only_text",
    "search.title",
    "search.more",
    "search.row",
    "search.none",
    "topic.title",
    "topic.title_urgent",
    "overview.topic",
    "overview.title",
    "overview.row",
    "overview.row_flat",
    "overview.more",
    "overview.empty",
)

# Headings and phrases of the readable copy /mydata sends.
MYDATA_TEXTS = (
    "title",
    "made",
    "nothing",
    "case",
    "status",
    "unsent",
    "documents",
    "photo",
    "document",
    "messages",
    "from_office",
    "from_you",
    "seen_by",
    "seen_by_nobody",
    "consent",
    "consent_yes",
    "consent_no",
    "consent_wording",
    "consent_withdrawn",
    "action.other",
)

# Texts of the data-rights commands.
PRIVACY_TEXTS = (
    "privacy.mydata",
    "privacy.delete_confirm",
    "privacy.delete_yes",
    "privacy.delete_no",
    "privacy.deleted",
    "privacy.deleted_open",
    "privacy.delete_kept",
    "privacy.withdrawn",
    "privacy.withdraw_choose",
    "privacy.withdraw_none",
    "privacy.staff_erasure_request",
    "privacy.staff_consent_withdrawn",
    "privacy.erased_by_office",
    *(f"mydata.{key}" for key in MYDATA_TEXTS),
    "consent.withdrawn",
)


# Texts of the working day: promised dates on cards, follow-ups and the daily digest.
WORKDAY_TEXTS = (
    *(
        f"card.{state}_{kind}"
        for state in ("due", "due_today", "overdue")
        for kind in ("reply", "chase")
    ),
    "queue.overdue_mark",
    "staff.follow_up_set",
    "staff.follow_up_cleared",
    "staff.follow_up_past",
    "digest.title",
    "digest.person",
    "digest.due_row",
    "digest.overdue_row",
    "digest.what.reply",
    "digest.what.chase",
    "digest.nothing",
    "digest.more",
    "digest.unassigned",
    "text.lines",
    *(
        f"template.{key}"
        for key in (
            "bad_name",
            "empty",
            "too_long",
            "stray_brace",
            "unknown_placeholder",
            "managers_only",
            "not_found",
            "list",
            "none",
        )
    ),
    "team.managers_only",
    "team.bad_member",
    "team.unknown_category",
    "team.name_taken",
    "team.last_manager",
    "team.list",
    "team.row",
    "team.role.caseworker",
    "team.role.manager",
    "team.export.yes",
    "team.export.no",
    "team.no_specialisms",
    "team.added",
    "team.removed",
    "team.usage",
    "staff.export_not_allowed",
    "desk.missing",
    "desk.suggestion",
    "desk.consent_how",
    "postcode.not_found_desk",
    "staff.reply_offline",
    "card.taken",
    *(
        f"stats.{key}"
        for key in (
            "received",
            "week",
            "open",
            "assignee",
            "promises",
            "promise",
            "promise.in_time",
            "promise.late",
            "promise.overdue",
            "promise.not_due",
            "cases",
            "intake_outcomes",
            "outcome",
            "intakes",
            "intake.started",
            "intake.sent",
            "intake.out_of_area",
            "intake.cancelled",
            "intake.expired",
            "period_backwards",
            "period_too_long",
        )
    ),
    *(f"channel.{channel.value}" for channel in CaseChannel),
)


def required_texts() -> list[str]:
    """Return every text key the code can ask for."""
    keys = [*CODE_TEXTS, *STAFF_TEXTS, *PRIVACY_TEXTS, *MESSAGES, *WORKDAY_TEXTS]
    keys += [f"error.unusable.{kind.value}" for kind in StepKind]
    keys += [f"error.{kind.value}.use_buttons" for kind in ANSWERED_BY_BUTTON]
    keys += [f"postcode.{status.value}" for status in PostcodeStatus]
    keys += [f"status.{status.value}" for status in CaseStatus]
    keys += [f"queue.which.{which.value}" for which in QueueFilter]
    keys += [f"case.{kind}" for kind in ("note", "to_constituent", "from_constituent")]
    keys += [f"consent.{answer}" for answer in ("yes", "no")]
    keys += [f"safeguarding.{concern.value}" for concern in Concern]
    keys += [f"concern.{concern.value}" for concern in Concern]
    keys += [f"delivery.failed_{kind}" for kind in ("card", "message", "staff_message", "cleanup")]
    keys += [f"staff.command.{command}" for command in STAFF_MENU]
    keys += [f"staff.usage.{command}" for command in STAFF_USAGE]
    keys += desk_text_keys()
    return keys


# CLDR's plural categories: a text that depends on a {count} gives the forms its language has.
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")

# The file of staff texts: only CONSTITUENT_STAFF_TEXTS of it need a text in every language.
STAFF_FILE = "staff.yaml"
# Files of texts read by staff only (the working day's, the desk's): English, no other
# language needs them.
STAFF_ONLY_FILES = ("workday.yaml", "desk.yaml")

# Texts of the staff file that a constituent receives (status names, a reply's framing...).
CONSTITUENT_STAFF_TEXTS = frozenset(
    {
        "status.new",
        "status.open",
        "status.waiting",
        "status.closed",
        "status.closed_unable",
        "staff.refused",
        "reply.to_constituent",
        "relay.received",
        "relay.which_case",
        "relay.closed_new_intake",
        "case.closed_to_constituent",
        "mystatus.title",
        "mystatus.row",
        "mystatus.none",
        "command.status",
    }
)


def load_catalogue(folder: Path, locale: str = "en") -> Catalogue:
    """Merge every ``*.yaml`` file of one locale into a catalogue; a key may appear only once."""
    texts, plurals, _ = _read_locale(folder, locale)
    return Catalogue(texts, locale, plurals=plurals)


def read_locale_files(folder: Path, locale: str) -> dict[str, dict[str, object]]:
    """Return what each of a locale's files holds, by file name, in the files' order."""
    return _read_locale(folder, locale)[2]


def constituent_keys(folder: Path) -> set[str]:
    """Return the keys of the English texts a constituent can be sent (every language needs)."""
    _, _, files = _read_locale(folder, "en")
    staff_only = (STAFF_FILE, *STAFF_ONLY_FILES)
    keys = {key for name, found in files.items() if name not in staff_only for key in found}
    return keys | (CONSTITUENT_STAFF_TEXTS & set(files.get(STAFF_FILE, ())))


def load_translation(
    folder: Path, locale: str, english: Catalogue, localise: Callable[[str], str] | None = None
) -> Catalogue:
    """Load a language other than English, over the English texts for staff-only keys.

    Every text a constituent can be sent must be translated, with the English text's
    placeholders and, for a text that depends on a count, every plural form of the language.
    """
    texts, plurals, _ = _read_locale(folder, locale)
    where = folder / locale
    needed = constituent_keys(folder)
    missing = sorted(needed - texts.keys() - plurals.keys())
    if missing:
        raise FlowError(
            f"{where}: no {locale} text for {missing[0]!r}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
        )
    for key in sorted({*texts, *plurals}):
        if key not in english:
            raise FlowError(f"{where}: text {key!r} has no English text")
        _check_placeholders(where, key, english, texts.get(key), plurals.get(key))
        if english.plural_forms(key) is not None:
            wanted = _categories(locale)
            given = set(plurals.get(key, {}))
            if not wanted <= given:
                raise FlowError(
                    f"{where}: text {key!r} needs the plural forms {', '.join(sorted(wanted))}"
                )
    merged = {k: english.raw(k) for k in english.keys() if english.plural_forms(k) is None}  # noqa: SIM118
    merged.update(texts)
    forms = {k: f for k in english.keys() if (f := english.plural_forms(k)) is not None}  # noqa: SIM118
    forms.update(plurals)
    for key in texts:
        forms.pop(key, None)
    return Catalogue(merged, locale, plurals=forms, localise=localise)


def _categories(locale: str) -> set[str]:
    return {plural_category(locale, n) for n in range(1001)} | {"other"}


def _check_placeholders(
    where: Path,
    key: str,
    english: Catalogue,
    text: str | None,
    forms: Mapping[str, str] | None,
) -> None:
    wanted = _all_placeholders(english.raw(key), english.plural_forms(key))
    found = _all_placeholders(text or "", forms)
    if found != wanted:
        raise FlowError(
            f"{where}: text {key!r} has the placeholders {{{', '.join(sorted(found))}}};"
            f" the English has {{{', '.join(sorted(wanted))}}}"
        )


def _all_placeholders(text: str, forms: Mapping[str, str] | None) -> set[str]:
    # A plural form may leave out {count} ("one day" for "un diwrnod"): count is implied.
    found = placeholders(text) if forms is None else set()
    for form in (forms or {}).values():
        found |= placeholders(form)
    return found - {"count"} if forms is not None else found


def _read_locale(
    folder: Path, locale: str
) -> tuple[dict[str, str], dict[str, dict[str, str]], dict[str, dict[str, object]]]:
    """Return a locale's texts, its plural texts, and what each file holds."""
    texts: dict[str, str] = {}
    plurals: dict[str, dict[str, str]] = {}
    files: dict[str, dict[str, object]] = {}
    found = sorted((folder / locale).glob("*.yaml"))
    if not found:
        raise FlowError(f"no message files in {folder / locale}")
    for path in found:
        data = _read_yaml(path)
        if not isinstance(data, dict):
            raise FlowError(f"{path}: expected a mapping of keys to texts")
        files[path.name] = data
        for key, value in data.items():
            if key in texts or key in plurals:
                raise FlowError(f"{path}: text {key!r} is defined twice")
            if isinstance(value, str):
                texts[key] = value
            elif isinstance(value, dict) and _plural_forms(value):
                plurals[key] = {str(k): str(v) for k, v in value.items()}
            elif isinstance(value, dict):
                raise FlowError(
                    f"{path}: text {key!r} has forms other than {', '.join(PLURAL_CATEGORIES)}"
                    ' ("other" is needed)'
                )
            else:
                raise FlowError(f"{path}: text {key!r} is not a string")
    return texts, plurals, files


def _plural_forms(value: dict[Any, Any]) -> bool:
    return (
        "other" in value
        and all(k in PLURAL_CATEGORIES for k in value)
        and all(isinstance(v, str) for v in value.values())
    )


def load_flow(path: Path, catalogue: Catalogue) -> Flow:
    """Read a flow file and check it against the catalogue, the validators and the code's steps."""
    try:
        flow = flow_from_data(_read_yaml(path))
        check_flow(flow, catalogue, VALIDATORS, required_texts(), ROLES)
    except FlowError as exc:
        raise FlowError(f"{path.name}: {exc}") from exc
    return flow


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (PyYAML keeps the last)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # keys after "<<: *anchor" override the merged ones, as YAML intends
        key = loader.construct_object(key_node)
        if not isinstance(key, Hashable):
            continue  # construct_mapping names an unhashable key itself
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"{key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _read_yaml(path: Path) -> Any:
    try:
        # A safe loader: it only adds the duplicate-key check to yaml.SafeLoader.
        return yaml.load(path.read_text("utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except UnicodeDecodeError as exc:
        raise FlowError(
            f"{path}: is not UTF-8 text (byte {exc.start + 1}); save it as UTF-8"
        ) from exc
    except (OSError, yaml.YAMLError) as exc:
        raise FlowError(f"{path}: cannot be read: {exc}") from exc


def load_templates(path: Path, catalogue: Catalogue) -> dict[str, str]:
    """Read the office's starting reply templates (name -> text), each checked (FlowError)."""
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise FlowError(f"{path.name}: expected a mapping of template names to texts")
    templates = {}
    for name, body in data.items():
        if not isinstance(body, str):
            raise FlowError(f"{path.name}: template {name!r} is not a text")
        try:
            templates[check_name(str(name))] = check_body(body)
        except TemplateError as exc:
            reason = catalogue.render(exc.msg, lambda text: text)
            raise FlowError(f"{path.name}: template {name!r}: {reason}") from exc
    return templates
