"""Loading flows and catalogues: the shipped ones load, broken ones fail naming the fault."""

from __future__ import annotations

import ast
import copy
import functools
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.office import PARAMS

from bot.core.catalogue import Catalogue, Msg, placeholders
from bot.core.draft import Answer
from bot.core.engine import Intake
from bot.core.flow import Flow, FlowError, StepKind
from bot.core.postcodes import DirectoryEntry, PostcodeChecker
from bot.core.prompts import Prompt
from bot.core.roles import ROLES
from bot.core.validators import VALIDATORS
from bot.loading import FLOWS_DIR, load_catalogue, load_flow, required_texts

BOT_DIR = Path(__file__).resolve().parents[2] / "bot"
LOCALES = FLOWS_DIR / "locales"
SHIPPED_FLOWS = sorted(FLOWS_DIR.glob("*.yaml"))
OFFICE_PARAMS = {**PARAMS, "draft_expiry": "7 days", "flood_pause": "5 minutes"}
OFFICE = frozenset(OFFICE_PARAMS)
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@functools.cache
def shipped_catalogue() -> Catalogue:
    """Return the shipped English catalogue (loaded once; nothing here changes it)."""
    return load_catalogue(LOCALES)


@functools.cache
def shipped_flow() -> Flow:
    """Return the shipped intake flow (loaded once; flows are frozen)."""
    return load_flow(FLOWS_DIR / "intake.yaml", shipped_catalogue())


def shipped_flow_data() -> dict[str, Any]:
    """Return the shipped intake flow as parsed YAML, ready to be broken."""
    data = yaml.safe_load((FLOWS_DIR / "intake.yaml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


@functools.cache
def _parsed_texts() -> dict[str, dict[str, str]]:
    texts = {}
    for path in sorted((LOCALES / "en").glob("*.yaml")):
        loaded = yaml.safe_load(path.read_text("utf-8"))
        assert isinstance(loaded, dict)
        texts[path.name] = loaded
    return texts


def shipped_texts() -> dict[str, dict[str, str]]:
    """Return each shipped English message file's texts, by file name (a fresh copy)."""
    return copy.deepcopy(_parsed_texts())


def write_flows(
    tmp_path: Path, flow: Any = None, texts: dict[str, dict[str, str]] | None = None
) -> Path:
    """Write a flows folder (the shipped one unless given) and return it."""
    folder = tmp_path / "flows"
    shutil.copytree(LOCALES, folder / "locales")
    if texts is not None:
        for name, mapping in texts.items():
            dumped = yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False, width=1000)
            (folder / "locales" / "en" / name).write_text(dumped, "utf-8")
    if flow is None:
        shutil.copy(FLOWS_DIR / "intake.yaml", folder / "intake.yaml")
    else:
        dumped = yaml.safe_dump(flow, allow_unicode=True, sort_keys=False)
        (folder / "intake.yaml").write_text(dumped, "utf-8")
    return folder


def load(folder: Path) -> Flow:
    """Load a flows folder as the bot does at start-up."""
    return load_flow(folder / "intake.yaml", load_catalogue(folder / "locales"))


def step(data: dict[str, Any], step_id: str) -> dict[str, Any]:
    """Return one step of parsed flow data, to change it in place."""
    found: dict[str, Any] = next(s for s in data["steps"] if s["id"] == step_id)
    return found


# --- the shipped flows -----------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED_FLOWS, ids=[p.name for p in SHIPPED_FLOWS])
def test_every_shipped_flow_loads(path: Path) -> None:
    flow = load_flow(path, shipped_catalogue())
    assert flow.steps[-1].kind is StepKind.REVIEW


def test_the_shipped_flows_are_found() -> None:
    assert [p.name for p in SHIPPED_FLOWS] == ["intake.yaml"]


def test_a_copy_written_by_these_tests_loads(tmp_path: Path) -> None:
    flow = load(write_flows(tmp_path, shipped_flow_data(), shipped_texts()))
    assert flow == load_flow(FLOWS_DIR / "intake.yaml", shipped_catalogue())


# --- broken flows ----------------------------------------------------------------------


def _duplicate_id(data: dict[str, Any]) -> None:
    step(data, "address")["id"] = "postcode"


def _when_missing_step(data: dict[str, Any]) -> None:
    step(data, "other_name")["when"]["step"] = "helper"


def _when_later_step(data: dict[str, Any]) -> None:
    step(data, "for_whom")["when"] = {"step": "category", "in": ["housing"]}


def _when_itself(data: dict[str, Any]) -> None:
    step(data, "organisation")["when"]["step"] = "organisation"


def _unknown_validator(data: dict[str, Any]) -> None:
    step(data, "full_name")["validator"] = "fullname"


def _text_without_validator(data: dict[str, Any]) -> None:
    del step(data, "address")["validator"]


def _choice_with_validator(data: dict[str, Any]) -> None:
    step(data, "category")["validator"] = "short_text"


def _missing_question(data: dict[str, Any]) -> None:
    step(data, "full_name")["text"] = "question.fullname"


def _missing_option_label(data: dict[str, Any]) -> None:
    step(data, "for_whom")["options"][1]["label"] = "option.for_whom.others"


def _missing_label(data: dict[str, Any]) -> None:
    step(data, "postcode")["label"] = "label.post_code"


def _missing_hint(data: dict[str, Any]) -> None:
    step(data, "address")["hint"] = "hint.adress"


def _consent_without_version(data: dict[str, Any]) -> None:
    del step(data, "consent")["version"]


def _consent_empty_version(data: dict[str, Any]) -> None:
    step(data, "consent")["version"] = ""


def _consent_without_no(data: dict[str, Any]) -> None:
    consent = step(data, "consent")
    consent["options"] = consent["options"][:1]


def _consent_with_maybe(data: dict[str, Any]) -> None:
    step(data, "consent")["options"].append({"value": "maybe", "label": "option.no"})


def _review_not_last(data: dict[str, Any]) -> None:
    data["steps"].insert(0, data["steps"].pop())


def _two_reviews(data: dict[str, Any]) -> None:
    data["steps"].insert(-1, {**data["steps"][-1], "id": "check"})


def _no_review(data: dict[str, Any]) -> None:
    data["steps"].pop()


def _choice_without_options(data: dict[str, Any]) -> None:
    step(data, "category")["options"] = []


def _notice_without_options(data: dict[str, Any]) -> None:
    del step(data, "welcome")["options"]


def _same_option_twice(data: dict[str, Any]) -> None:
    step(data, "category")["options"][1]["value"] = "benefits"


def _unknown_kind(data: dict[str, Any]) -> None:
    step(data, "email")["kind"] = "quiz"


def _unknown_field(data: dict[str, Any]) -> None:
    step(data, "email")["prompt"] = "question.email"


def _bad_step_id(data: dict[str, Any]) -> None:
    step(data, "email")["id"] = "E-mail"


def _condition_with_in_and_not_in(data: dict[str, Any]) -> None:
    step(data, "other_name")["when"]["not_in"] = ["self"]


def _unknown_suggestion(data: dict[str, Any]) -> None:
    step(data, "full_name")["suggest"] = "facebook_name"


def _summarised_without_label(data: dict[str, Any]) -> None:
    del step(data, "email")["label"]


def _no_steps(data: dict[str, Any]) -> None:
    del data["steps"]


def _version_zero(data: dict[str, Any]) -> None:
    data["version"] = 0


def _max_length_zero(data: dict[str, Any]) -> None:
    step(data, "what_happened")["max_length"] = 0


BROKEN_FLOWS: list[tuple[Callable[[dict[str, Any]], None], str]] = [
    (_duplicate_id, "flow 'intake': step id 'postcode' is used twice"),
    (_when_missing_step, "step 'other_name': depends on 'helper', which is not an earlier step"),
    (_when_later_step, "step 'for_whom': depends on 'category', which is not an earlier step"),
    (_when_itself, "step 'organisation': depends on 'organisation', which is not an earlier"),
    (_unknown_validator, "step 'full_name': unknown validator 'fullname'"),
    (_text_without_validator, "step 'address': a text step needs a validator"),
    (_choice_with_validator, "step 'category': a choice step takes no validator"),
    (_missing_question, "step 'full_name': the message catalogue has no text 'question.fullname'"),
    (_missing_option_label, "step 'for_whom': the message catalogue has no text 'option.for_whom"),
    (_missing_label, "step 'postcode': the message catalogue has no text 'label.post_code'"),
    (_missing_hint, "step 'address': the message catalogue has no text 'hint.adress'"),
    (_consent_without_version, "step 'consent': consent needs options 'yes' and 'no' and a vers"),
    (_consent_empty_version, "step 'consent': consent needs options 'yes' and 'no' and a version"),
    (_consent_without_no, "step 'consent': consent needs options 'yes' and 'no' and a version"),
    (_consent_with_maybe, "step 'consent': consent needs options 'yes' and 'no' and a version"),
    (_review_not_last, "needs exactly one 'review' step, and it must be the last"),
    (_two_reviews, "needs exactly one 'review' step, and it must be the last"),
    (_no_review, "needs exactly one 'review' step, and it must be the last"),
    (_choice_without_options, "step 'category': a choice step needs options"),
    (_notice_without_options, "step 'welcome': a notice step needs options"),
    (_same_option_twice, "step 'category': two options have the same value"),
    (_unknown_kind, "input_value='quiz'"),
    (_unknown_field, "prompt"),
    (_bad_step_id, "input_value='E-mail'"),
    (_condition_with_in_and_not_in, "a condition needs exactly one of 'in' or 'not_in'"),
    (_unknown_suggestion, "step 'full_name': unknown suggestion 'facebook_name'"),
    (_summarised_without_label, "step 'email': needs a 'label' for the check-answers list"),
    (_no_steps, "steps"),
    (_version_zero, "version"),
    (_max_length_zero, "max_length"),
]


@pytest.mark.parametrize(
    ("breaks", "fault"), BROKEN_FLOWS, ids=[b.__name__.strip("_") for b, _ in BROKEN_FLOWS]
)
def test_a_broken_flow_fails_at_load_naming_the_fault(
    tmp_path: Path, breaks: Callable[[dict[str, Any]], None], fault: str
) -> None:
    data = shipped_flow_data()
    breaks(data)
    with pytest.raises(FlowError) as caught:
        load(write_flows(tmp_path, data))
    message = str(caught.value)
    assert message.startswith("intake.yaml: ")
    assert fault in message


_EMAIL = next(i for i, s in enumerate(shipped_flow_data()["steps"]) if s["id"] == "email")


@pytest.mark.parametrize(
    ("breaks", "fault"),
    [(_unknown_kind, f"steps.{_EMAIL}.kind"), (_unknown_field, f"steps.{_EMAIL}.prompt")],
    ids=["kind", "field"],
)
def test_a_malformed_flow_names_the_place(
    tmp_path: Path, breaks: Callable[[dict[str, Any]], None], fault: str
) -> None:
    data = shipped_flow_data()
    breaks(data)
    with pytest.raises(FlowError, match="flow is malformed") as caught:
        load(write_flows(tmp_path, data))
    assert fault in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "id: intake\nsteps: [\n  {id: welcome, kind: notice\n",
        "id: intake\n\tversion: 1\n",
        "- just\n- a list\n",
        "",
    ],
    ids=["unclosed", "tab", "list", "empty"],
)
def test_a_flow_file_that_is_not_a_flow_fails_at_load(tmp_path: Path, text: str) -> None:
    folder = write_flows(tmp_path)
    (folder / "intake.yaml").write_text(text, "utf-8")
    with pytest.raises(FlowError, match=r"^intake\.yaml: "):
        load(folder)


def test_a_missing_flow_file_fails_at_load(tmp_path: Path) -> None:
    folder = write_flows(tmp_path)
    (folder / "intake.yaml").unlink()
    with pytest.raises(FlowError, match="cannot be read"):
        load(folder)


def test_a_key_given_twice_in_a_step_fails_at_load(tmp_path: Path) -> None:
    folder = write_flows(tmp_path)
    text = (FLOWS_DIR / "intake.yaml").read_text("utf-8")
    broken = text.replace(
        "    text: question.email\n", "    text: question.email\n    text: question.phone\n"
    )
    assert broken != text
    (folder / "intake.yaml").write_text(broken, "utf-8")
    with pytest.raises(FlowError, match="'text' is given twice"):
        load(folder)


# --- the steps the code relies on -------------------------------------------------------


def renamed(data: dict[str, Any], step_id: str, new_id: str) -> None:
    """Rename one step of parsed flow data, and every 'when' that names it."""
    step(data, step_id)["id"] = new_id
    for other in data["steps"]:
        if other.get("when", {}).get("step") == step_id:
            other["when"]["step"] = new_id


def removed(data: dict[str, Any], step_id: str) -> None:
    """Remove one step of parsed flow data."""
    data["steps"].remove(step(data, step_id))


def _category_renamed(data: dict[str, Any]) -> None:
    renamed(data, "category", "topic")


def _category_renamed_alone(data: dict[str, Any]) -> None:
    step(data, "category")["id"] = "topic"  # the 'when's still name 'category'


def _no_consent(data: dict[str, Any]) -> None:
    removed(data, "consent")


def _no_postcode(data: dict[str, Any]) -> None:
    removed(data, "postcode")


def _category_typed(data: dict[str, Any]) -> None:
    category = step(data, "category")
    category.update(kind="text", validator="short_text")
    del category["options"]


def _postcode_typed(data: dict[str, Any]) -> None:
    step(data, "postcode").update(kind="text", validator="short_text")


def _deadline_free_text(data: dict[str, Any]) -> None:
    step(data, "deadline")["validator"] = "short_text"


def _for_whom_without_other(data: dict[str, Any]) -> None:
    step(data, "for_whom")["options"][1]["value"] = "someone"


def _category_optional(data: dict[str, Any]) -> None:
    step(data, "category")["optional"] = True


def _consent_sometimes(data: dict[str, Any]) -> None:
    step(data, "consent")["when"] = {"step": "for_whom", "in": ["self"]}


_NEEDS_CATEGORY = "the code needs a choice step 'category' (cases are routed and queued by it)"
_NEEDS_CONSENT = (
    "the code needs a consent step 'consent' (every case records the person's consent from it)"
)
_NEEDS_POSTCODE = (
    "the code needs a postcode step 'postcode'"
    " (a case's constituency comes from the checked postcode)"
)

ROLE_FAULTS: list[tuple[Callable[[dict[str, Any]], None], str]] = [
    (_category_renamed, f"{_NEEDS_CATEGORY}; none is in the flow"),
    (_category_renamed_alone, f"{_NEEDS_CATEGORY}; none is in the flow"),
    (_no_consent, f"{_NEEDS_CONSENT}; none is in the flow"),
    (_no_postcode, f"{_NEEDS_POSTCODE}; none is in the flow"),
    (_category_typed, f"{_NEEDS_CATEGORY}; it is a text step"),
    (_postcode_typed, f"{_NEEDS_POSTCODE}; it is a text step"),
    (
        _deadline_free_text,
        "the code needs a text step 'deadline' with the validator 'deadline_date'"
        " (a near deadline makes a case urgent, read as a date); its validator is 'short_text'",
    ),
    (_for_whom_without_other, "the code needs a choice step 'for_whom' with the option 'other'"),
    (_category_optional, f"{_NEEDS_CATEGORY}; it is optional, but every intake must answer it"),
    (_consent_sometimes, f"{_NEEDS_CONSENT}; it has a 'when', but every intake must answer it"),
]


@pytest.mark.parametrize(
    ("breaks", "fault"), ROLE_FAULTS, ids=[b.__name__.strip("_") for b, _ in ROLE_FAULTS]
)
def test_a_flow_without_a_step_the_code_needs_fails_at_load_in_one_line(
    tmp_path: Path, breaks: Callable[[dict[str, Any]], None], fault: str
) -> None:
    data = shipped_flow_data()
    breaks(data)
    with pytest.raises(FlowError) as caught:
        load(write_flows(tmp_path, data))
    message = str(caught.value)
    assert message.startswith("intake.yaml: flow 'intake': the code needs ")
    assert fault in message
    assert "\n" not in message


def test_a_renamed_category_is_named_in_exactly_this_line(tmp_path: Path) -> None:
    data = shipped_flow_data()
    renamed(data, "category", "topic")
    with pytest.raises(FlowError) as caught:
        load(write_flows(tmp_path, data))
    assert str(caught.value) == (
        "intake.yaml: flow 'intake': the code needs a choice step 'category'"
        " (cases are routed and queued by it); none is in the flow"
    )


@pytest.mark.parametrize(
    "step_id", [role.step for role in ROLES if not role.required], ids=lambda step_id: step_id
)
def test_a_flow_may_leave_out_a_step_the_code_only_reads_if_present(
    tmp_path: Path, step_id: str
) -> None:
    data = shipped_flow_data()
    removed(data, step_id)
    for other in [s for s in data["steps"] if s.get("when", {}).get("step") == step_id]:
        del other["when"]
    for other in data["steps"]:
        if other.get("required_when", {}).get("step") == step_id:
            del other["required_when"]
        kept = [v for v in other.get("variants", []) if v["when"]["step"] != step_id]
        if "variants" in other:
            other["variants"] = kept
    flow = load(write_flows(tmp_path, data))
    assert flow.find(step_id) is None


def test_every_step_the_code_relies_on_is_in_the_shipped_flow_as_declared() -> None:
    flow = shipped_flow()
    for role in ROLES:
        found = flow.find(role.step)
        assert found is not None, role.step
        assert found.kind is role.kind, role.step
    required = {role.step for role in ROLES if role.required}
    assert required == {"category", "postcode", "consent"}


def test_find_returns_none_for_a_step_the_flow_does_not_have() -> None:
    flow = shipped_flow()
    assert flow.find("category") == flow.step("category")
    assert flow.find("no_such_step") is None


# Calls that look an answer or a step up by its id, like answers.get("category").
_LOOKUPS = {"get", "step", "find", "index", "value"}
_ROLE_IDS = {role.step for role in ROLES}
# The modules that name these steps by the constants of bot/core/roles.py only.
_BY_CONSTANT = sorted(p for p in BOT_DIR.rglob("*.py") if "data" not in p.parts)


def step_id_literals(path: Path) -> list[str]:
    """Return each place in a module that looks up a step the code relies on by a literal."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        key: ast.expr | None = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            key = node.args[0] if node.func.attr in _LOOKUPS else None
        elif isinstance(node, ast.Subscript):
            key = node.slice
        if isinstance(key, ast.Constant) and key.value in _ROLE_IDS:
            found.append(f"{path.name}:{key.lineno} {key.value!r}")
    return found


@pytest.mark.parametrize(
    "path", _BY_CONSTANT, ids=[str(p.relative_to(BOT_DIR)) for p in _BY_CONSTANT]
)
def test_the_core_names_the_steps_it_relies_on_by_constant(path: Path) -> None:
    assert step_id_literals(path) == []


def test_a_step_id_literal_would_be_found(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text('def f(answers):\n    return answers.get("category"), answers["postcode"]\n')
    assert step_id_literals(module) == ["example.py:2 'category'", "example.py:2 'postcode'"]


# --- broken catalogues -----------------------------------------------------------------


def without(key: str) -> dict[str, dict[str, str]]:
    """Return the shipped texts with ``key`` removed from whichever file holds it."""
    texts = shipped_texts()
    holders = [name for name, mapping in texts.items() if key in mapping]
    assert len(holders) == 1, f"{key!r} is in {holders}"
    del texts[holders[0]][key]
    return texts


FLOW_TEXTS = ["question.full_name", "option.for_whom.other", "label.postcode", "hint.address"]


def catalogue_without(key: str) -> Catalogue:
    """Return the shipped catalogue, built in memory, without ``key``."""
    merged = {k: v for mapping in without(key).values() for k, v in mapping.items()}
    return Catalogue(merged)


@pytest.mark.parametrize("key", FLOW_TEXTS)
def test_a_locale_file_without_a_flow_text_fails_at_load(tmp_path: Path, key: str) -> None:
    folder = write_flows(tmp_path, texts=without(key))
    with pytest.raises(FlowError, match=re.escape(f"the message catalogue has no text {key!r}")):
        load(folder)


@pytest.mark.parametrize("key", FLOW_TEXTS + required_texts())
def test_a_catalogue_without_a_needed_text_fails_at_load(key: str) -> None:
    with pytest.raises(FlowError, match=re.escape(f"the message catalogue has no text {key!r}")):
        load_flow(FLOWS_DIR / "intake.yaml", catalogue_without(key))


@pytest.mark.parametrize("key", ["error.full_name.empty", "error.date.not_real"])
def test_a_catalogue_without_a_validator_message_fails_at_load(key: str) -> None:
    with pytest.raises(FlowError, match=re.escape(repr(key))):
        load_flow(FLOWS_DIR / "intake.yaml", catalogue_without(key))


def test_a_text_in_two_locale_files_fails_at_load(tmp_path: Path) -> None:
    texts = shipped_texts()
    texts["bot.yaml"]["label.postcode"] = "Post code"
    with pytest.raises(FlowError, match=re.escape("text 'label.postcode' is defined twice")):
        load(write_flows(tmp_path, texts=texts))


def test_a_text_twice_in_one_locale_file_fails_at_load(tmp_path: Path) -> None:
    folder = write_flows(tmp_path)
    with (folder / "locales" / "en" / "intake.yaml").open("a", encoding="utf-8") as file:
        file.write("label.postcode: Post code\n")
    with pytest.raises(FlowError, match=re.escape("'label.postcode' is given twice")):
        load(folder)


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("label.postcode: [unclosed\n", "cannot be read"),
        ("- a\n- list\n", "expected a mapping of keys to texts"),
        ("option.maybe: Yes\n", "text 'option.maybe' is not a string"),
        ("option.count: 3\n", "text 'option.count' is not a string"),
    ],
    ids=["malformed", "list", "yes-unquoted", "number"],
)
def test_a_broken_locale_file_fails_at_load(tmp_path: Path, text: str, fault: str) -> None:
    folder = write_flows(tmp_path)
    (folder / "locales" / "en" / "extra.yaml").write_text(text, "utf-8")
    with pytest.raises(FlowError, match=re.escape(fault)) as caught:
        load(folder)
    assert "extra.yaml" in str(caught.value)


def test_a_locale_without_files_fails_at_load(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    with pytest.raises(FlowError, match="no message files"):
        load_catalogue(tmp_path)


# --- the texts the code asks for -------------------------------------------------------


def literal_keys(node_type: str) -> Iterator[tuple[str, int, str]]:
    """Yield (file, line, key) for every ``node_type("literal.key", ...)`` call in bot/."""
    for path in sorted(BOT_DIR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            first = node.args[0]
            if (
                name == node_type
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                yield str(path.relative_to(BOT_DIR.parent)), node.lineno, first.value


MSG_KEYS = sorted(set(literal_keys("Msg")))
REJECTED_KEYS = sorted(set(literal_keys("Rejected")))


def test_the_code_names_texts() -> None:
    keys = {key for _, _, key in MSG_KEYS}
    assert {"notice.at_start", "cancel.confirm", "button.back", "error.internal"} <= keys
    assert "error.attachments.expected" in {key for _, _, key in REJECTED_KEYS}


@pytest.mark.parametrize(
    ("where", "line", "key"),
    MSG_KEYS + REJECTED_KEYS,
    ids=[k for *_, k in MSG_KEYS + REJECTED_KEYS],
)
def test_every_text_the_code_names_is_in_the_catalogue(where: str, line: int, key: str) -> None:
    assert key in shipped_catalogue(), f"{where}:{line} names {key!r}"


# The modules of the constituent intake, and (below) the rest of the bot.
# (bot/core/cards.py, datacopy.py, digest.py, templates.py and taken.py fill staff and data-rights
# texts, checked with the rest.)
INTAKE_MODULES = re.compile(
    r"bot/(core/(?!cards|datacopy|digest|templates|taken).*|loading|service/intake"
    r"|channels/telegram/(application|constituent|parse|render|runtime))\.py"
)
INTAKE_MSG_KEYS = [row for row in MSG_KEYS if INTAKE_MODULES.fullmatch(row[0])]
OTHER_MSG_KEYS = [row for row in MSG_KEYS if not INTAKE_MODULES.fullmatch(row[0])]


@pytest.mark.parametrize(
    ("where", "line", "key"), INTAKE_MSG_KEYS, ids=[k for *_, k in INTAKE_MSG_KEYS]
)
def test_every_text_the_intake_names_is_checked_at_load(where: str, line: int, key: str) -> None:
    assert key in required_texts(), f"{where}:{line} names {key!r}, which load does not check"


def test_every_text_the_rest_of_the_bot_names_is_checked_at_load() -> None:
    assert OTHER_MSG_KEYS
    assert [row for row in OTHER_MSG_KEYS if row[2] not in required_texts()] == []


VALIDATOR_PARAMS = frozenset({"max", "length", "min", "example", "years", "earliest", "suggestion"})
_VALIDATOR_NAMES = "|".join(sorted(VALIDATORS))

# What each family of texts is filled with, from where the code makes its Msg; first match wins.
PARAMS_BY_KEY: list[tuple[str, frozenset[str]]] = [
    (r"(question|hint)\.", OFFICE | {"attachments", "max_length"}),
    (r"(help|privacy|about)$", OFFICE | {"attribution"}),
    (r"confirmation\.", OFFICE | {"reference"}),
    (r"postcode\.", OFFICE | {"postcode", "suggestion", "elsewhere"}),
    (r"intake\.collecting$", frozenset({"count"})),
    (r"notice\.answer_cut$", frozenset({"max_length"})),
    (r"button\.postcode_unchecked$", frozenset({"postcode"})),
    (r"button\.suggestion_yes$", frozenset({"value"})),
    (r"review\.in_full$", frozenset({"label", "text"})),
    (r"review\.", frozenset()),
    (r"cancel\.|error\.internal$", OFFICE),
    (r"flood\.warning$", OFFICE),
    (r"staff\.assigned_to_you$", frozenset({"reference"})),
    (r"button\.change$", frozenset({"label"})),
    (r"notice\.attachment_saved$|summary\.attachments$", frozenset({"count"})),
    (r"notice\.echo$", frozenset({"text"})),
    (r"error\.unusable\.", frozenset({"what"})),
    (rf"error\.({_VALIDATOR_NAMES}|date)\.", VALIDATOR_PARAMS),
    (r"duration\.", frozenset({"count"})),
    (r"language\.", frozenset()),
    (r"(label|option|category|button|command|intake|notice|summary|error)\.", frozenset()),
]


def allowed_params(key: str) -> frozenset[str] | None:
    """Return the values the code fills ``key`` with, or None for a family not listed here."""
    for pattern, names in PARAMS_BY_KEY:
        if re.match(pattern, key):
            return names
    return None


def test_every_text_of_the_intake_is_in_a_listed_family() -> None:
    named = [*flow_text_keys(), *(key for *_, key in INTAKE_MSG_KEYS)]
    assert [key for key in named if allowed_params(key) is None] == []


def flow_text_keys() -> list[str]:
    """Return every text key the shipped flow names."""
    flow = shipped_flow()
    keys = []
    for s in flow.steps:
        keys += [s.text, *(o.label for o in s.options)]
        keys += [k for k in (s.label, s.hint) if k is not None]
    return keys


ALL_KEYS = sorted(shipped_catalogue().keys())
LISTED_KEYS = [key for key in ALL_KEYS if allowed_params(key) is not None]


@pytest.mark.parametrize("key", LISTED_KEYS)
def test_every_intake_placeholder_can_be_filled(key: str) -> None:
    allowed = allowed_params(key)
    assert allowed is not None
    assert placeholders(shipped_catalogue().raw(key)) <= allowed


def test_a_length_placeholder_is_only_on_steps_with_a_length() -> None:
    catalogue = shipped_catalogue()
    flow = shipped_flow()
    for s in flow.steps:
        allowed = OFFICE | {"attachments"} | ({"max_length"} if s.max_length else set())
        for key in (s.text, s.hint):
            if key is not None:
                assert placeholders(catalogue.raw(key)) <= allowed, f"{s.id}: {key}"


class _NoPostcodes:
    """A postcode directory that knows none: prompts never look postcodes up."""

    def find(self, normalised: str) -> DirectoryEntry | None:
        """Return nothing."""
        return None


def _render(catalogue: Catalogue, prompt: Prompt) -> list[str]:
    """Render every text of a prompt as the channel would, unescaped."""
    messages: list[Msg | str] = [prompt.text]
    messages += [prompt.hint] if prompt.hint else []
    messages += [button.label for line in prompt.buttons for button in line]
    messages += [part for row in prompt.summary for part in (row.label, row.value)]
    return [catalogue.render(m, str) if isinstance(m, Msg) else m for m in messages]


def test_every_prompt_of_the_shipped_flow_renders() -> None:
    catalogue = shipped_catalogue()
    flow = shipped_flow()
    intake = Intake(
        flow, PostcodeChecker(_NoPostcodes(), {}), "E14001520", VALIDATORS, OFFICE_PARAMS
    )
    draft = intake.begin(NOW, {"telegram_name": "Ada"}).draft
    answers = {
        s.id: Answer(value=s.options[0].value if s.options else "typed", answered_at=NOW)
        for s in flow.steps
        if s.kind is not StepKind.REVIEW
    }
    consent = flow.step("consent")
    answers["consent"] = Answer(
        value="yes", extra={"version": consent.version or ""}, answered_at=NOW
    )
    # Someone helping another person: every question of that branch applies.
    answers["for_whom"] = Answer(value="other", answered_at=NOW)
    place = {"constituency_code": "E14001520", "constituency_name": "Stoke-on-Trent Central"}
    answers["postcode"] = Answer(value="ST4 1HH", extra=place, answered_at=NOW)
    draft = draft.with_answers(answers)
    rendered = _render(catalogue, intake.prompt(draft.cancelling(asked=True)))
    for s in flow.steps:
        at = draft.at(s.id, reviewing=False)
        if s.when is not None:  # answer the question it depends on so that it applies
            source = flow.step(s.when.step)
            value = next(o.value for o in source.options if s.when.holds(o.value))
            at = at.with_answers({**answers, source.id: Answer(value=value, answered_at=NOW)})
        prompt = intake.prompt(at)
        assert prompt.step == s.id
        rendered += _render(catalogue, prompt)
    assert not [text for text in rendered if "{" in text or "}" in text]
    assert any("Jo Example" in text for text in rendered)
