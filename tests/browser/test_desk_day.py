"""The desk's working day in a real browser: overdue cases, promised dates and follow-ups."""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect
from service.test_stats import PERIOD, SEEDED
from service.test_taken_cases import PHONED
from support.desk import Desk, running_desk
from support.intake import PRIYA, SAM, STAFF_CHAT, Clock, new_user

from bot.core.case import Case
from bot.core.dates import long_date
from bot.core.desk import DeskQuery, Tab
from bot.core.workdays import london_date
from bot.service.staff import Actor, CaseView, Caseworker

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

SHOTS = os.environ.get("DESK_SCREENSHOTS")  # a folder: keep screenshots of the pages there


async def sign_in(desk: Desk, page: Page) -> None:
    """Sign in through a link the bot sent to the caseworker's private chat."""
    await page.goto(await desk.link(SAM))
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Cases", level=1)).to_be_visible()


async def test_overdue_tab_marker_promised_date_and_follow_up(desk: Desk, page: Page) -> None:
    late = await desk.send_case(new_user("Ann", "Late"))
    answered = await desk.send_case(new_user("Ben", "Answered"))
    promised = (await _case(desk, late)).reply_by
    assert promised is not None
    desk.harness.clock.advance(days=40)
    who = await _sam(desk)
    await desk.services.staff.reply(who, answered, "We have written to the council.")
    fresh = await desk.send_case(new_user("Cat", "Fresh"))
    await sign_in(desk, page)

    await page.get_by_role("link", name=re.compile("^Overdue 1")).click()
    rows = page.locator("#results tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(late)
    await expect(rows.first.locator(".overdue")).to_have_text("Overdue")
    if SHOTS:
        await page.screenshot(path=str(Path(SHOTS) / "desk-overdue.png"), full_page=True)
    await page.get_by_role("link", name=re.compile("^All open 3")).click()
    await expect(rows).to_have_count(3)
    await expect(page.locator("#results tbody .overdue")).to_have_count(1)
    await expect(rows.filter(has_text=fresh).locator(".overdue")).to_have_count(0)

    await page.goto(f"{desk.base}/cases/{late}")
    summary = page.locator("dl").first
    await expect(page.locator("main .overdue")).to_have_text("Overdue")
    await expect(summary).to_contain_text(f"Reply promised by{long_date(promised)}")
    await expect(summary).to_contain_text("Follow up onNone set")
    chase = london_date(desk.harness.clock()) + timedelta(days=7)
    await page.get_by_label("Follow-up date").fill(chase.isoformat())
    await page.get_by_label("Note (optional)").fill("Chase DWP about the appeal.")
    await page.get_by_role("button", name="Set follow-up").click()
    await expect(page.get_by_role("status")).to_contain_text("The follow-up date is changed.")
    await expect(summary).to_contain_text(f"Follow up on{long_date(chase)}")
    await expect(summary).to_contain_text("Waiting on organisation")
    await expect(page.locator("main")).to_contain_text("Chase DWP about the appeal.")
    assert (await _case(desk, late)).follow_up == chase

    past = london_date(desk.harness.clock()) - timedelta(days=1)
    await page.get_by_label("Follow-up date").fill(past.isoformat())
    await page.get_by_role("button", name="Set follow-up").click()
    await expect(page.get_by_role("alert")).to_contain_text("has passed")
    await page.get_by_role("button", name="Clear follow-up").click()
    await expect(summary).to_contain_text("Follow up onNone set")
    assert (await _case(desk, late)).follow_up is None

    await page.goto(f"{desk.base}/cases/{answered}")
    await expect(page.locator("dl").first).to_contain_text("(replied)")
    await expect(page.locator("main .overdue")).to_have_count(0)


async def _sam(desk: Desk) -> Caseworker:
    return await desk.services.staff.authorise(Actor(SAM.user_id, SAM.user_id), "test")


async def _case(desk: Desk, reference: str) -> Case:
    view = await desk.services.staff.view(await _sam(desk), reference)
    assert isinstance(view, CaseView)
    return view.stored.case


async def test_a_reply_template_fills_the_reply_box_to_edit_and_send(
    desk: Desk, page: Page
) -> None:
    user = new_user("Dora", "Template")
    reference = await desk.send_case(user)
    await sign_in(desk, page)
    await page.goto(f"{desk.base}/cases/{reference}")
    box = page.get_by_label("Reply to the constituent")
    await box.fill("I was typing this.")
    await page.get_by_label("Start from a standard reply").select_option("acknowledged")
    # Filled on the server (htmx) for this case: its first name, reference and caseworker.
    await expect(box).to_have_value(re.compile(rf"^Dear Dora, .*{reference}.* Sam$"))
    await page.get_by_label("Start from a standard reply").select_option("")
    await expect(box).to_have_value(re.compile(r"^Dear Dora"))  # choosing none keeps the text
    text = await box.input_value()
    await box.fill(text.replace("will be in touch again soon", "will ring you on Monday"))
    await page.get_by_role("button", name="Send reply").click()
    await expect(page.get_by_role("status")).to_contain_text("Your reply is on its way")
    await desk.harness.settle()
    sent = [
        call.text or ""
        for call in desk.harness.request.calls("sendMessage")
        if call.chat_id == user.user_id and "will ring you on Monday" in (call.text or "")
    ]
    assert len(sent) == 1
    assert reference in sent[0]
    assert "{" not in sent[0]


async def test_a_reply_template_without_scripts_reloads_the_page_filled(
    desk: Desk, browser: Browser
) -> None:
    context = await browser.new_context(java_script_enabled=False)
    try:
        page = await context.new_page()
        reference = await desk.send_case(new_user("Eve", "Plain"))
        await page.goto(await desk.link(SAM))
        await page.get_by_role("button", name="Sign in").click()
        await page.goto(f"{desk.base}/cases/{reference}")
        await page.get_by_label("Start from a standard reply").select_option("need-documents")
        await page.get_by_role("button", name="Use this reply").click()
        box = page.get_by_label("Reply to the constituent")
        await expect(box).to_have_value(re.compile(rf"^Dear Eve, .*{reference}"))
        await page.goto(f"{desk.base}/cases/{reference}?template=no-such-thing")
        await expect(page.locator("#reply-template-error")).to_contain_text(
            "There is no reply template called no-such-thing"
        )
    finally:
        await context.close()


async def test_statistics_of_a_seeded_period_as_charts_tables_and_csv(
    desk: Desk, page: Page
) -> None:
    async with desk.services.store.transaction() as tx:
        for seeded in SEEDED:
            await tx.create_case(seeded)
        for outcome, times in [("started", 3), ("sent", 2), ("out_of_area", 1)]:
            for _ in range(times):
                await tx.count_outcome("2026-11-05", outcome)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))
    await sign_in(desk, page)
    await page.get_by_role("link", name="Statistics").click()
    await page.get_by_label("From", exact=True).fill(PERIOD.start.isoformat())
    await page.get_by_label("To", exact=True).fill(PERIOD.end.isoformat())
    await page.get_by_role("button", name="Show").click()
    await expect(page.get_by_role("heading", level=2).first).to_have_text(
        "2 November 2026 to 29 November 2026"
    )
    await expect(page.locator("main dl")).to_contain_text("3 days (over 3 cases)")
    received = page.locator("#table-received")
    await expect(received.locator("thead th")).to_have_text(
        ["Week beginning", "Benefits and pensions", "Housing"]
    )
    await expect(received.locator("tbody tr")).to_have_text(
        ["2026-11-0202", "2026-11-0910", "2026-11-1600", "2026-11-2311"]
    )
    intakes = page.locator("#table-intakes tbody tr")
    await expect(intakes.first).to_have_text("Started3")
    await expect(intakes.nth(2)).to_have_text("Out of the constituency1")
    charts = page.locator("main figure svg")
    await expect(charts).to_have_count(4)
    await expect(charts.first.locator("rect title").first).to_have_text(re.compile("Housing: 2"))
    assert await charts.first.bounding_box() is not None  # drawn, not refused by the policy
    assert not [e for e in errors if "Content Security Policy" in e]
    if SHOTS:
        await page.screenshot(path=str(Path(SHOTS) / "desk-stats.png"), full_page=True)

    async with page.expect_download() as caught:
        await page.get_by_role(
            "link", name=re.compile("^Download as CSV: Cases received each week")
        ).click()
    download = await caught.value
    assert download.suggested_filename == "received-2026-11-02-2026-11-29.csv"
    rows = list(csv.reader(io.StringIO(_read(Path(await download.path())).decode())))
    assert rows == [
        ["Week beginning", "Benefits and pensions", "Housing"],
        ["2026-11-02", "0", "2"],
        ["2026-11-09", "1", "0"],
        ["2026-11-16", "0", "0"],
        ["2026-11-23", "1", "1"],
    ]

    assert (await page.request.get(f"{desk.base}/stats/nothing.csv")).status == 404
    assert (await page.request.get(f"{desk.base}/stats/open.csv?start=x")).status == 400

    await page.get_by_label("From", exact=True).fill("2026-12-01")
    await page.get_by_label("To", exact=True).fill("2026-11-01")
    await page.get_by_role("button", name="Show").click()
    await expect(page.get_by_role("alert")).to_contain_text("The period ends before it starts")


def _read(path: Path) -> bytes:
    return path.read_bytes()


async def test_bulk_actions_from_the_queue_change_and_audit_each_case(
    desk: Desk, page: Page
) -> None:
    users = [new_user("Fay", "One"), new_user("Gil", "Two"), new_user("Hal", "Three")]
    first, second, third = [await desk.send_case(user) for user in users]
    await sign_in(desk, page)
    await page.get_by_role("link", name=re.compile("^All open 3")).click()
    await page.get_by_label(f"Select {first}").check()
    await page.get_by_label(f"Select {second}").check()
    await page.get_by_label("Do", exact=True).select_option(label="Assign")
    await page.locator("#b-to").select_option(label="Priya")
    await page.get_by_role("button", name="Apply to the selected cases").click()
    await expect(page.locator("main")).to_contain_text(first)
    await expect(page.locator("main")).to_contain_text(second)
    assert [(await _case(desk, r)).assignee for r in (first, second, third)] == [
        PRIYA.user_id,
        PRIYA.user_id,
        None,
    ]

    await page.goto(f"{desk.base}/?tab=open")
    await page.get_by_label(f"Select {first}").check()
    await page.get_by_label(f"Select {third}").check()
    await page.get_by_label("Do", exact=True).select_option(label="Close case")
    await page.get_by_role("button", name="Apply to the selected cases").click()
    await expect(page.locator("main")).to_contain_text("Enter the outcome")  # nothing closed
    assert (await _case(desk, first)).is_open
    await page.goto(f"{desk.base}/?tab=open")
    await page.get_by_label(f"Select {first}").check()
    await page.get_by_label(f"Select {third}").check()
    await page.get_by_label("Do", exact=True).select_option(label="Close case")
    await page.locator("#b-outcome").fill("The council has rehoused them.")
    await page.get_by_role("button", name="Apply to the selected cases").click()
    await desk.harness.settle()
    assert [(await _case(desk, r)).is_open for r in (first, second, third)] == [
        False,
        True,
        False,
    ]
    for user in (users[0], users[2]):
        told = [
            call.text or ""
            for call in desk.harness.request.calls("sendMessage")
            if call.chat_id == user.user_id and "has been closed" in (call.text or "")
        ]
        assert len(told) == 1
    async with desk.services.store.transaction() as tx:
        for reference in (first, third):
            history = [entry.action for entry in await tx.list_audit(reference)]
            assert history.count("status") == 1, history
        assert [e.action for e in await tx.list_audit(second)].count("assigned") == 1


async def test_a_phoned_case_taken_at_the_desk_reaches_the_staff_group(
    desk: Desk, page: Page
) -> None:
    await sign_in(desk, page)
    await page.get_by_role("link", name="Take a case").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Take a case by phone, email or in person"
    )
    answers = {**PHONED, "postcode": "ST6 1HH", "full_name": "Elsewhere Person"}
    await _fill_taken(page, answers, "Read the wording; she said yes")
    await page.get_by_role("button", name="Make the case").click()
    await expect(page.locator("main")).to_contain_text("The office cannot take this case")
    await expect(page.locator("#q-full_name")).to_have_value("")  # nothing kept
    assert (await desk.services.desk.queue(await _sam(desk), DeskQuery(Tab.OPEN))).total == 0
    async with desk.services.store.transaction() as tx:
        assert await tx.count_audit("taken_out_of_area") == 1

    await _fill_taken(page, {**PHONED, "what_happened": ""}, "Read the wording; she said yes")
    await page.get_by_role("button", name="Make the case").click()
    await expect(page.locator(".error-summary")).to_contain_text("This answer is needed.")
    await expect(page.locator("#q-full_name")).to_have_value("Olwen Pritchard")  # kept
    await page.locator("#q-what_happened").fill(PHONED["what_happened"])
    await page.get_by_role("button", name="Make the case").click()
    await expect(page.get_by_role("status")).to_contain_text("The case is made")
    heading = await page.get_by_role("heading", level=1).inner_text()
    reference = heading.split(" · ")[0]
    assert heading.endswith("Olwen Pritchard")
    case = await _case(desk, reference)
    assert case.channel.value == "phone"
    assert case.consent.how == "Read the wording; she said yes"
    await desk.harness.settle()
    cards = [
        call.text or ""
        for call in desk.harness.request.calls("sendMessage")
        if call.chat_id == STAFF_CHAT and reference in (call.text or "")
    ]
    assert cards


async def _fill_taken(page: Page, answers: dict[str, str], how: str) -> None:
    await page.get_by_label("By phone").check()
    for step, value in answers.items():
        field = page.locator(f"#q-{step}")
        if await field.evaluate("e => e.tagName") == "SELECT":
            await field.select_option(value)
        else:
            await field.fill(value)
    await page.locator("#q-consent_how").fill(how)


@pytest_asyncio.fixture(loop_scope="session")
async def managed_desk(tmp_path: Path) -> AsyncIterator[Desk]:
    """Return a desk whose office names Sam its office manager."""
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    async with running_desk(tmp_path, clock, office_managers="Sam") as running:
        yield running


async def test_a_manager_adds_and_removes_staff_and_a_removed_session_ends_at_once(
    managed_desk: Desk, page: Page, browser: Browser
) -> None:
    desk = managed_desk
    other = await browser.new_context()
    try:
        priya = await other.new_page()
        await priya.goto(await desk.link(PRIYA))
        await priya.get_by_role("button", name="Sign in").click()
        await expect(priya.get_by_role("link", name="Staff")).to_have_count(0)
        await priya.goto(f"{desk.base}/staff")
        await expect(priya.locator("main")).to_contain_text("Only an office manager")

        await sign_in(desk, page)
        await page.get_by_role("link", name="Staff").click()
        team = page.locator("#team tbody tr")
        await expect(team).to_have_count(2)
        await page.get_by_label("Telegram user id").fill("9123")
        await page.get_by_label("Name", exact=True).fill("Rhys")
        await page.get_by_label("May export cases").uncheck()
        await page.get_by_label("Housing").check()
        await page.get_by_role("button", name="Save").click()
        await expect(page.get_by_role("status")).to_contain_text("The staff list is saved.")
        await expect(team).to_have_count(3)
        await expect(team.filter(has_text="Rhys")).to_contain_text("9123")
        rhys = desk.services.staff.staff.get(9123)
        assert rhys is not None
        assert (rhys.name, rhys.may_export, rhys.specialisms) == ("Rhys", False, ("housing",))

        await page.get_by_label("Telegram user id").fill("9124")
        await page.get_by_label("Name", exact=True).fill("Priya")
        await page.get_by_role("button", name="Save").click()
        await expect(page.locator(".error-summary")).to_be_visible()
        await expect(team).to_have_count(3)

        await page.get_by_role("button", name="Remove Priya").click()
        await expect(page.get_by_role("status")).to_contain_text("taken off the staff")
        await expect(team).to_have_count(2)
        response = await priya.goto(f"{desk.base}/")
        assert response is not None
        assert response.status == 401
        async with desk.services.store.transaction() as tx:
            assert await tx.count_audit("staff_added") == 1
            assert await tx.count_audit("staff_removed") == 1
    finally:
        await other.close()


async def test_a_manager_edits_the_standard_replies_checked_when_saved(
    managed_desk: Desk, page: Page
) -> None:
    desk = managed_desk
    await sign_in(desk, page)
    await page.get_by_role("link", name="Standard replies").click()
    await expect(page.locator("main")).to_contain_text("{first_name}")
    await page.get_by_label("Name (lower-case").fill("council-written")
    await page.get_by_label("Text", exact=True).fill("Dear {first_name}, I wrote to {councl}.")
    await page.get_by_role("button", name="Add", exact=True).click()
    await expect(page.locator(".error-summary")).to_contain_text("{councl}")
    assert await desk.services.templates.get_template("council-written") is None
    await page.get_by_label("Text", exact=True).fill("Dear {first_name}, about {reference}.")
    await page.get_by_role("button", name="Add", exact=True).click()
    await expect(page.get_by_role("status")).to_contain_text("The standard reply is saved.")
    saved = await desk.services.templates.get_template("council-written")
    assert saved is not None
    assert saved.body == "Dear {first_name}, about {reference}."
    await page.get_by_role("button", name="Delete council-written").click()
    await expect(page.get_by_role("status")).to_contain_text("deleted")
    assert await desk.services.templates.get_template("council-written") is None
    async with desk.services.store.transaction() as tx:
        assert await tx.count_audit("template_added") == 1
        assert await tx.count_audit("template_deleted") == 1


async def test_only_a_manager_may_edit_the_standard_replies(desk: Desk, page: Page) -> None:
    await page.goto(await desk.link(PRIYA))
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("link", name="Standard replies")).to_have_count(0)
    response = await page.goto(f"{desk.base}/replies")
    assert response is not None
    assert response.status == 403
