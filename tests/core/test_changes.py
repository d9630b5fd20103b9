"""The typed changes to drafts and cases: each sets what it says and leaves the rest alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest

from bot.core.case import Case, CaseStatus, Consent, Keep, Urgency
from bot.core.draft import Answer, Attachment, Draft

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
LATER = START + timedelta(hours=2)
LETTER = Attachment(kind="photo", file_id="photo-1", caption="  the letter\u200b ")
FORM = Attachment(kind="document", file_id="doc-1", file_name="form.pdf")


def draft() -> Draft:
    """Return a draft part-way through, at the postcode question."""
    return Draft(
        flow_id="intake",
        flow_version=1,
        step="postcode",
        answers={"full_name": Answer(value="Ada Lovelace", answered_at=START)},
        attachments=[LETTER],
        revision=4,
        started_at=START,
        updated_at=START,
    )


def case() -> Case:
    """Return a new, unassigned case with consent given."""
    return Case(
        reference="SOT-7K4X9Q5",
        user_id=1001,
        chat_id=1001,
        created_at=START,
        updated_at=START,
        flow_id="intake",
        flow_version=1,
        category="housing",
        constituency_code="E14001520",
        constituency_name="Stoke-on-Trent Central",
        answers={"category": "housing"},
        consent=Consent(version="2026-11-v1", answer="yes", recorded_at=START),
        urgency=Urgency(urgent=False),
    )


def changed_fields(before: Draft | Case, after: Draft | Case) -> dict[str, object]:
    """Return the fields whose values differ, with their new values."""
    names = type(after).model_fields
    return {n: getattr(after, n) for n in names if getattr(after, n) != getattr(before, n)}


# --- drafts ----------------------------------------------------------------------------

NAME = Answer(value="Ada King", answered_at=LATER)


DRAFT_CHANGES: list[tuple[str, Callable[[Draft], Draft], dict[str, object]]] = [
    ("at", lambda d: d.at("address", reviewing=True), {"step": "address", "reviewing": True}),
    ("at-same", lambda d: d.at("postcode", reviewing=False), {}),
    ("answers", lambda d: d.with_answers({"full_name": NAME}), {"answers": {"full_name": NAME}}),
    ("no-answers", lambda d: d.with_answers({}), {"answers": {}}),
    ("attachment", lambda d: d.with_attachment(FORM), {"attachments": [LETTER, FORM]}),
    ("cancel", lambda d: d.cancelling(asked=True), {"confirming_cancel": True}),
    ("touch", lambda d: d.touched(LATER), {"revision": 5, "updated_at": LATER}),
    ("reminded", lambda d: d.as_reminded(), {"reminded": True}),
]


@pytest.mark.parametrize(
    ("change", "expected"),
    [(change, expected) for _, change, expected in DRAFT_CHANGES],
    ids=[name for name, *_ in DRAFT_CHANGES],
)
def test_a_draft_change_sets_only_its_fields(
    change: Callable[[Draft], Draft], expected: dict[str, object]
) -> None:
    before = draft()
    assert changed_fields(before, change(before)) == expected
    assert before == draft()  # the original is unchanged


def test_a_restarted_draft_is_numbered_after_the_one_it_replaces() -> None:
    old = draft()
    fresh = Draft(
        flow_id="intake", flow_version=1, step="welcome", started_at=LATER, updated_at=LATER
    )
    restarted = fresh.restarted_from(old)
    assert restarted.revision == old.revision + 1
    assert changed_fields(fresh, restarted) == {"revision": old.revision + 1}


def test_an_attachment_takes_a_new_caption_and_file_name() -> None:
    assert LETTER.with_text(caption="the letter", file_name=None) == Attachment(
        kind="photo", file_id="photo-1", caption="the letter"
    )


# --- cases -----------------------------------------------------------------------------


def test_a_case_changed_with_nothing_else_is_only_touched() -> None:
    before = case()
    assert changed_fields(before, before.changed(LATER)) == {"updated_at": LATER}


@pytest.mark.parametrize(
    ("status", "assignee", "expected"),
    [
        (CaseStatus.OPEN, Keep.KEEP, {"status": CaseStatus.OPEN}),
        (None, 9001, {"assignee": 9001}),
        (
            CaseStatus.CLOSED,
            9002,
            {"status": CaseStatus.CLOSED, "assignee": 9002, "closed_at": LATER},
        ),
    ],
    ids=["status", "assignee", "both"],
)
def test_a_case_change_sets_the_status_and_assignee_given(
    status: CaseStatus | None, assignee: int | Literal[Keep.KEEP], expected: dict[str, object]
) -> None:
    before = case()
    after = before.changed(LATER, status=status, assignee=assignee)
    assert changed_fields(before, after) == {**expected, "updated_at": LATER}


def test_a_case_change_can_unassign() -> None:
    assigned = case().changed(START, assignee=9001)
    assert assigned.assignee == 9001
    assert assigned.changed(LATER, assignee=None).assignee is None
    assert assigned.changed(LATER, status=CaseStatus.WAITING).assignee == 9001


def test_withdrawing_consent_keeps_the_answer_and_records_when() -> None:
    before = case()
    after = before.with_consent_withdrawn(LATER)
    assert after.consent == Consent(
        version="2026-11-v1", answer="yes", recorded_at=START, withdrawn_at=LATER
    )
    assert not after.consent.given
    assert after.updated_at == LATER
    assert before.consent.given


def test_an_attachment_is_added_after_the_others() -> None:
    after = case().with_attachment(LETTER, LATER).with_attachment(FORM, LATER)
    assert after.attachments == [LETTER, FORM]
    assert after.updated_at == LATER
    assert case().attachments == []
