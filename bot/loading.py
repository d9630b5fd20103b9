"""Read the flows and message catalogues from disk and check them before the bot starts."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from bot.core.case import CaseStatus, QueueFilter
from bot.core.catalogue import Catalogue
from bot.core.desk import desk_text_keys
from bot.core.flow import ANSWERED_BY_BUTTON, Flow, FlowError, StepKind, check_flow, flow_from_data
from bot.core.postcodes import PostcodeStatus
from bot.core.roles import ROLES
from bot.core.safeguarding import Concern
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
    "status",
    "close",
    "audit",
    "block",
    "unblock",
    "erase",
    "export",
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


def required_texts() -> list[str]:
    """Return every text key the code can ask for."""
    keys = [*CODE_TEXTS, *STAFF_TEXTS, *PRIVACY_TEXTS, *MESSAGES]
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


def load_catalogue(folder: Path, locale: str = "en") -> Catalogue:
    """Merge every ``*.yaml`` file of one locale into a catalogue; a key may appear only once."""
    texts: dict[str, str] = {}
    files = sorted((folder / locale).glob("*.yaml"))
    if not files:
        raise FlowError(f"no message files in {folder / locale}")
    for path in files:
        data = _read_yaml(path)
        if not isinstance(data, dict):
            raise FlowError(f"{path}: expected a mapping of keys to texts")
        for key, value in data.items():
            if not isinstance(value, str):
                raise FlowError(f"{path}: text {key!r} is not a string")
            if key in texts:
                raise FlowError(f"{path}: text {key!r} is defined twice")
            texts[key] = value
    return Catalogue(texts, locale)


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
