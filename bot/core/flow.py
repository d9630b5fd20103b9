"""The intake flow as data: an ordered list of steps of a closed set of kinds.

There are no jumps: a step with a ``when`` condition is asked only when an earlier answer
matches, so which steps apply is a function of the answers alone. That keeps "back",
"change an answer" and "resume" simple and the same for every channel.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.core.catalogue import Catalogue

# The longest answer one message can carry; a longer one is gathered from several.
ONE_MESSAGE = 4000
STEP_ID = r"^[a-z][a-z0-9_]{0,23}$"
OPTION_VALUE = r"^[a-z0-9_]{1,24}$"


class FlowError(ValueError):
    """A flow that cannot be used: the message names the flow, the step and the fault."""


class StepKind(StrEnum):
    """What a step asks for, and so how it is answered and shown."""

    NOTICE = "notice"
    CHOICE = "choice"
    TEXT = "text"
    PHONE = "phone"
    POSTCODE = "postcode"
    ATTACHMENTS = "attachments"
    CONSENT = "consent"
    REVIEW = "review"


ANSWERED_BY_BUTTON = {StepKind.NOTICE, StepKind.CHOICE, StepKind.CONSENT}
NEEDS_VALIDATOR = {StepKind.TEXT, StepKind.PHONE}
NOT_SUMMARISED = {StepKind.NOTICE, StepKind.REVIEW}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Option(_Frozen):
    """One button of a choice: the stored value and its label key."""

    value: str = Field(pattern=OPTION_VALUE)
    label: str


class Condition(_Frozen):
    """Ask a step only when an earlier answer is (or is not) one of some values."""

    step: str
    in_: tuple[str, ...] | None = Field(default=None, alias="in")
    not_in: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        if (self.in_ is None) == (self.not_in is None):
            raise ValueError("a condition needs exactly one of 'in' or 'not_in'")
        return self

    def holds(self, value: str | None) -> bool:
        """Tell whether an answer ``value`` satisfies the condition."""
        if self.in_ is not None:
            return value in self.in_
        return value not in (self.not_in or ())


class Variant(_Frozen):
    """Other words for a step when an earlier answer matches (for someone helping another)."""

    when: Condition
    text: str | None = None
    hint: str | None = None
    label: str | None = None


class Step(_Frozen):
    """One question (or notice) of the intake."""

    id: str = Field(pattern=STEP_ID)
    kind: StepKind
    text: str
    label: str | None = None
    hint: str | None = None
    options: tuple[Option, ...] = ()
    validator: str | None = None
    max_length: int | None = Field(default=None, gt=0, le=20000)
    optional: bool = False
    suggest: str | None = None
    when: Condition | None = None
    # An optional step that must be answered when an earlier answer matches.
    required_when: Condition | None = None
    # A long answer people often send as several messages: kept until "That is everything".
    collect: bool = False
    variants: tuple[Variant, ...] = ()
    version: str | None = None
    summary: bool = True

    def option(self, value: str) -> Option | None:
        """Return the option with ``value``, if the step has one."""
        return next((o for o in self.options if o.value == value), None)

    def worded(self, value_of: Callable[[str], str | None]) -> Step:
        """Return the step in the words of its first variant whose condition holds."""
        for variant in self.variants:
            if variant.when.holds(value_of(variant.when.step)):
                update = {
                    name: getattr(variant, name)
                    for name in ("text", "hint", "label")
                    if getattr(variant, name) is not None
                }
                return self.model_copy(update=update)
        return self


class Flow(_Frozen):
    """A whole intake: an id, a version and its steps in order."""

    id: str = Field(pattern=STEP_ID)
    version: int = Field(ge=1)
    steps: tuple[Step, ...]

    # Cached on the instance (a flow is frozen), so that the engine's look-ups on every reply
    # are plain dictionary reads rather than pydantic's slower private-attribute access.
    @cached_property
    def _positions(self) -> dict[str, int]:
        """Return each step's position by id (the first, if an id is used twice)."""
        return {step.id: i for i, step in reversed(list(enumerate(self.steps)))}

    def step(self, step_id: str) -> Step:
        """Return the step with ``step_id``."""
        return self.steps[self._positions[step_id]]

    def find(self, step_id: str) -> Step | None:
        """Return the step with ``step_id``, or None if the flow has no such step."""
        position = self._positions.get(step_id)
        return None if position is None else self.steps[position]

    def index(self, step_id: str) -> int:
        """Return the position of ``step_id`` in the flow."""
        return self._positions[step_id]

    @cached_property
    def review(self) -> Step:
        """Return the check-answers step."""
        return next(s for s in self.steps if s.kind is StepKind.REVIEW)


@dataclass(frozen=True, slots=True)
class Role:
    """A step id the code reads answers by, and what that step must be for the code to work.

    ``required`` steps must be in every flow and asked of everyone (no ``when``, not
    optional), because every case is made from their answers. The others may be left out
    of a flow, but if a step has the id it must be of ``kind`` (and have ``validator`` and
    the ``options`` values, when given), since the code reads its answer that way.
    """

    step: str
    kind: StepKind
    why: str
    required: bool = False
    validator: str | None = None
    options: tuple[str, ...] = ()


SUGGESTIONS = {"telegram_name"}


def check_flow(
    flow: Flow,
    catalogue: Catalogue,
    validators: Collection[str],
    required_texts: Collection[str] = (),
    roles: Collection[Role] = (),
) -> None:
    """Raise FlowError naming the first fault that would break an intake part-way through."""
    where = f"flow {flow.id!r}"
    seen: set[str] = set()
    for step in flow.steps:
        if step.id in seen:
            raise FlowError(f"{where}: step id {step.id!r} is used twice")
        seen.add(step.id)
    reviews = [s for s in flow.steps if s.kind is StepKind.REVIEW]
    if len(reviews) != 1 or flow.steps[-1].kind is not StepKind.REVIEW:
        raise FlowError(f"{where}: needs exactly one 'review' step, and it must be the last")
    # Before the steps: a renamed step would otherwise be reported by each 'when' naming it.
    for role in roles:
        _check_role(flow, role)
    for position, step in enumerate(flow.steps):
        _check_step(flow, position, step, catalogue, validators)
    for key in required_texts:
        if key not in catalogue:
            raise FlowError(f"{where}: the message catalogue has no text {key!r}")


def _check_role(flow: Flow, role: Role) -> None:
    fault = _role_fault(flow.find(role.step), role)
    if fault is None:
        return
    need = f"a {role.kind} step {role.step!r}"
    if role.validator is not None:
        need += f" with the validator {role.validator!r}"
    if role.options:
        need += " with the option" + ("s " if len(role.options) > 1 else " ")
        need += ", ".join(repr(value) for value in role.options)
    raise FlowError(f"flow {flow.id!r}: the code needs {need} ({role.why}); {fault}")


def _role_fault(step: Step | None, role: Role) -> str | None:
    """Return how ``step`` falls short of what the code needs of it, or None if it does not."""
    if step is None:
        return "none is in the flow" if role.required else None
    if step.kind is not role.kind:
        return f"it is a {step.kind} step"
    if role.validator is not None and step.validator != role.validator:
        return f"its validator is {step.validator!r}"
    if missing := [value for value in role.options if step.option(value) is None]:
        return f"it has no option {missing[0]!r}"
    if role.required and step.optional:
        return "it is optional, but every intake must answer it"
    if role.required and step.when is not None:
        return "it has a 'when', but every intake must answer it"
    return None


def _check_step(
    flow: Flow, position: int, step: Step, catalogue: Catalogue, validators: Collection[str]
) -> None:
    where = f"flow {flow.id!r}, step {step.id!r}"
    ids = [s.id for s in flow.steps]
    earlier = set(ids[:position])
    for key in _text_keys(step):
        if key not in catalogue:
            raise FlowError(f"{where}: the message catalogue has no text {key!r}")
    conditions = [step.when, step.required_when, *(v.when for v in step.variants)]
    for condition in conditions:
        if condition is not None and condition.step not in earlier:
            raise FlowError(f"{where}: depends on {condition.step!r}, which is not an earlier step")
    if step.required_when is not None and not step.optional:
        raise FlowError(f"{where}: 'required_when' is only for an optional step")
    if step.collect and step.kind is not StepKind.TEXT:
        raise FlowError(f"{where}: only a text step can collect several messages")
    if (step.max_length or 0) > ONE_MESSAGE and not step.collect:
        raise FlowError(
            f"{where}: an answer longer than {ONE_MESSAGE:,} characters needs 'collect: true'"
            " (one message cannot hold it)"
        )
    if step.kind in NEEDS_VALIDATOR:
        if step.validator is None:
            raise FlowError(f"{where}: a {step.kind} step needs a validator")
        if step.validator not in validators:
            raise FlowError(f"{where}: unknown validator {step.validator!r}")
    elif step.validator is not None:
        raise FlowError(f"{where}: a {step.kind} step takes no validator")
    if step.kind in {StepKind.CHOICE, StepKind.NOTICE, StepKind.CONSENT} and not step.options:
        raise FlowError(f"{where}: a {step.kind} step needs options")
    if len({o.value for o in step.options}) != len(step.options):
        raise FlowError(f"{where}: two options have the same value")
    consent_ok = {o.value for o in step.options} == {"yes", "no"} and bool(step.version)
    if step.kind is StepKind.CONSENT and not consent_ok:
        raise FlowError(f"{where}: consent needs options 'yes' and 'no' and a version")
    if step.suggest is not None and step.suggest not in SUGGESTIONS:
        raise FlowError(f"{where}: unknown suggestion {step.suggest!r}")
    needs_label = step.kind not in NOT_SUMMARISED and step.summary
    if needs_label and step.label is None:
        raise FlowError(f"{where}: needs a 'label' for the check-answers list")


def _text_keys(step: Step) -> list[str]:
    keys = [step.text, *(o.label for o in step.options)]
    keys += [k for k in (step.label, step.hint) if k is not None]
    for variant in step.variants:
        keys += [k for k in (variant.text, variant.hint, variant.label) if k is not None]
    return keys


def flow_from_data(data: Any) -> Flow:
    """Build a flow from parsed YAML, turning pydantic's errors into one FlowError."""
    try:
        return Flow.model_validate(data)
    except ValueError as exc:
        raise FlowError(f"flow is malformed: {exc}") from exc
