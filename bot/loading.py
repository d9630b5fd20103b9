"""Read the flows and message catalogues from disk and check them before the bot starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.core.catalogue import Catalogue
from bot.core.flow import ANSWERED_BY_BUTTON, Flow, FlowError, StepKind, check_flow, flow_from_data
from bot.core.postcodes import PostcodeStatus
from bot.core.validators import VALIDATORS

FLOWS_DIR = Path(__file__).resolve().parent.parent / "flows"

# Texts the code asks for by name, beyond those a flow names.
CODE_TEXTS = (
    "about",
    "help",
    "privacy",
    "intake.group_chat",
    "intake.resume",
    "intake.no_draft",
    "intake.restarted",
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
    "summary.not_given",
    "summary.attachments",
    "confirmation.sent",
    "confirmation.sent_no_consent",
    "postcode.other_constituency",
    "error.review.use_buttons",
    "error.change.not_now",
    "error.cancel.use_buttons",
    "error.attachments.expected",
    *(f"command.{name}" for name in ("start", "back", "cancel", "help", "privacy", "about")),
)


def required_texts() -> list[str]:
    """Return every text key the code can ask for."""
    keys = list(CODE_TEXTS)
    keys += [f"error.unusable.{kind.value}" for kind in StepKind]
    keys += [f"error.{kind.value}.use_buttons" for kind in ANSWERED_BY_BUTTON]
    keys += [f"postcode.{status.value}" for status in PostcodeStatus]
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
    """Read a flow file and check it against the catalogue and the validators."""
    try:
        flow = flow_from_data(_read_yaml(path))
        check_flow(flow, catalogue, VALIDATORS, required_texts())
    except FlowError as exc:
        raise FlowError(f"{path.name}: {exc}") from exc
    return flow


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FlowError(f"{path}: cannot be read: {exc}") from exc
