"""An office edits its flow while intakes are under way: every person carries on."""

from __future__ import annotations

import shutil
from pathlib import Path

from support.intake import Clock, Harness, intake_to_review, make_settings, new_user

from bot.loading import FLOWS_DIR
from bot.office import prepare


def edited_flows(tmp_path: Path) -> Path:
    """Return a copy of the shipped flows with one step renamed and another removed."""
    folder = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, folder)
    flow = folder / "intake.yaml"
    text = flow.read_text("utf-8").replace("id: contacted_them", "id: contacted_before")
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if "id: their_reference" in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("- id:"))
    flow.write_text("".join(lines[:start] + lines[end:]), "utf-8")
    return folder


async def test_people_at_a_renamed_a_removed_and_a_later_step_all_carry_on(
    tmp_path: Path, clock: Clock
) -> None:
    database = tmp_path / "db.sqlite3"
    transcript = intake_to_review()
    at_renamed, at_removed, at_review = new_user(), new_user(), new_user()
    async with Harness.running(prepare(make_settings(database)), clock) as harness:
        await harness.run(at_removed, transcript[:12])  # asked for their reference
        await harness.run(at_renamed, transcript[:13])  # asked whether they contacted them
        await harness.run(at_review, transcript)
    office = prepare(make_settings(database, flows_dir=edited_flows(tmp_path)))
    async with Harness.running(office, clock) as harness:
        for user in (at_renamed, at_removed, at_review):
            joined = "\n".join(await harness.act(user, ("text", "HB/12345")))
            assert "We have changed some of our questions" in joined
            assert "Have you already contacted them about this?" in joined
            assert "Something went wrong" not in joined
        for user, expected in [
            (at_renamed, "What has happened?"),
            (at_removed, "What has happened?"),
            (at_review, "Check your answers before sending"),
        ]:
            joined = "\n".join(await harness.act(user, ("tap", "Yes")))
            assert expected in joined
