"""What a text fills in, in every language: a question keeps only the office values it shows."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from support.office import PARAMS

from bot.core.catalogue import Catalogue, Msg, fills_in
from bot.core.draft import Draft
from bot.core.prompts import step_prompt
from bot.loading import FLOWS_DIR, load_catalogue, load_flow, load_translation

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
OFFICE = {**PARAMS, "draft_expiry": "7 days", "attribution": "Contains OS data © Crown copyright"}


def test_a_text_fills_in_what_any_language_or_plural_form_names() -> None:
    english = Catalogue(
        {"q": "Hello {name}, call {office_phone}", "odd": "{answers[0]}"},
        plurals={"n": {"one": "{count} letter", "other": "{count} letters for {mp_name}"}},
    )
    welsh = Catalogue({"q": "Helo {name}, {mp_name}"}, "cy")
    fills = fills_in([english, welsh])
    assert fills("q") == frozenset({"name", "office_phone", "mp_name"})
    assert fills("odd") is None  # read another way: every value is kept
    assert fills("n") is None  # not in the Welsh texts: kept whole
    assert fills_in([english])("n") == frozenset({"count", "mp_name"})


def test_every_question_shows_the_same_with_only_the_values_it_fills_in() -> None:
    english = load_catalogue(FLOWS_DIR / "locales")
    welsh = load_translation(FLOWS_DIR / "locales", "cy", english)
    fills = fills_in([english, welsh])
    flow = load_flow(FLOWS_DIR / "intake.yaml", english)
    trimmed_any = False
    for step in flow.steps:
        draft = Draft(
            flow_id=flow.id,
            flow_version=flow.version,
            step=step.id,
            started_at=NOW,
            updated_at=NOW,
        )
        whole = step_prompt(flow, step, draft, (), OFFICE, can_go_back=True)
        kept = step_prompt(flow, step, draft, (), OFFICE, can_go_back=True, fills=fills)
        for catalogue in (english, welsh):
            for full, lean in ((whole.text, kept.text), (whole.hint, kept.hint)):
                if full is None or lean is None:
                    assert full is lean
                    continue
                assert isinstance(lean, Msg)
                assert catalogue.render(lean, html.escape) == catalogue.render(full, html.escape)
                trimmed_any |= len(lean.params) < len(full.params)
    assert trimmed_any
