"""The staff desk in a real browser: sign-in through the bot, the queue, search, a case, actions."""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
import sqlite3
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import BrowserContext, Page, expect
from support.desk import LETTER, Desk
from support.intake import PRIYA, SAM, STAFF_CHAT, intake_to_review, new_user

from bot.core.references import ALPHABET
from bot.service.staff import Actor

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

REFUSED = "This command is for office staff."
SHOTS = os.environ.get("DESK_SCREENSHOTS")  # a folder: keep screenshots of the pages there


async def sign_in(desk: Desk, page: Page, user: object = SAM) -> None:
    """Sign in through a link the bot sent to the caseworker's private chat."""
    link = await desk.link(user)  # type: ignore[arg-type]
    await page.goto(link)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Cases", level=1)).to_be_visible()


def logins(desk: Desk) -> list[tuple[object, ...]]:
    path = desk.services.office.settings.database_path
    with sqlite3.connect(path) as db:
        return db.execute("SELECT user_id, used_at FROM desk_logins").fetchall()


def constituent_texts(desk: Desk, chat_id: int, needle: str) -> list[str]:
    return [
        call.text
        for call in desk.harness.request.calls("sendMessage")
        if call.chat_id == chat_id and call.text and needle in call.text
    ]


async def test_sign_in_find_by_name_note_and_reply(desk: Desk, page: Page) -> None:
    ada, olwen = new_user("Ada", "Lovelace"), new_user("Olwen", "Jones")
    await desk.send_case(ada)
    reference = await desk.send_case(olwen)
    link = await desk.link(SAM)
    sent = desk.harness.request.last_message(SAM.user_id)
    assert link in (sent.text or "")
    assert '"is_disabled": true' in str(sent.params.get("link_preview_options")).replace(
        "True", "true"
    ).replace("'", '"')
    await page.goto(link)
    # Opening the link (as a preview fetcher would) does not spend it: only the button does.
    assert logins(desk) == [(SAM.user_id, None)]
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Cases", level=1)).to_be_visible()
    cookie = next(c for c in await page.context.cookies() if c["name"] == "desk_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    await page.get_by_role("link", name=re.compile("^Unassigned")).click()
    await expect(page.get_by_role("link", name=re.compile("^Unassigned 2"))).to_be_visible()
    if SHOTS:
        await page.screenshot(path=str(Path(SHOTS) / "desk-queue.png"), full_page=True)

    await page.get_by_label("Search cases").fill("Olwen")
    await page.get_by_label("Search cases").press("Enter")
    results = page.locator("#found tbody tr")
    await expect(results).to_have_count(1)
    await page.get_by_role("link", name=reference).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"{reference} · Olwen Jones")
    main = page.locator("main")
    await expect(main).to_contain_text("07911 123 456")  # as people write it
    await expect(main).to_contain_text("Stoke-on-Trent City Council")
    await expect(main).to_contain_text("HB/12345")

    await page.get_by_label("Add an internal note").fill("Called the council: they will reply.")
    await page.get_by_role("button", name="Add note").click()
    await expect(page.get_by_role("status")).to_contain_text("Your note is added.")
    await expect(page.locator(".message.note")).to_contain_text("Called the council")

    desk.harness.request.clear()
    await page.get_by_label("Reply to the constituent").fill("We have written to the council.")
    await page.get_by_role("button", name="Send reply").click()
    await expect(page.get_by_role("status")).to_contain_text("on its way")
    await desk.harness.settle()
    assert len(constituent_texts(desk, olwen.user_id, "We have written to the council.")) == 1
    card_edits = [
        call
        for call in desk.harness.request.calls("editMessageText")
        if call.chat_id == STAFF_CHAT and reference in (call.text or "")
    ]
    assert card_edits, "the card in the staff group was not brought up to date"
    await page.reload()
    await expect(page.locator(".message.to_constituent")).to_contain_text("written to the council")
    if SHOTS:
        await page.screenshot(path=str(Path(SHOTS) / "desk-case.png"), full_page=True)
    # Reloading the page sent nothing again.
    await desk.harness.settle()
    assert len(constituent_texts(desk, olwen.user_id, "We have written to the council.")) == 1


async def test_a_used_an_expired_and_a_made_up_link_are_refused(
    desk: Desk, page: Page, context: BrowserContext
) -> None:
    link = await desk.link(SAM)
    await page.goto(link)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Cases", level=1)).to_be_visible()
    other = await context.browser.new_context()  # type: ignore[union-attr]
    second = await other.new_page()
    await second.goto(link)
    await second.get_by_role("button", name="Sign in").click()
    await expect(second.locator("main")).to_contain_text("already been used")
    await expect(second.locator("main")).to_contain_text("send /desk")
    late = await desk.link(SAM)
    desk.harness.clock.advance(minutes=11)
    await second.goto(late)
    await second.get_by_role("button", name="Sign in").click()
    await expect(second.locator("main")).to_contain_text("has expired")
    await second.goto(link.rsplit("/", 1)[0] + "/not-a-token")
    await second.get_by_role("button", name="Sign in").click()
    await expect(second.locator("main")).to_contain_text("not one the office bot sent")
    await second.goto(desk.base + "/")
    await expect(second.get_by_role("heading", level=1)).to_have_text(
        "Sign in to the casework desk"
    )
    await other.close()


async def test_someone_not_on_the_staff_gets_the_staff_refusal(desk: Desk) -> None:
    stranger = new_user("Eve", "Outsider")
    texts = await desk.harness.send(desk.harness.updates.command(stranger, "/desk"))
    assert texts == [REFUSED]
    group = desk.harness.updates.group_command(SAM, STAFF_CHAT, "/desk")
    texts = await desk.harness.send(group, STAFF_CHAT)
    assert texts
    assert "private chat" in texts[0]
    assert logins(desk) == []


async def test_queue_tabs_and_filters(desk: Desk, page: Page) -> None:
    housing = await desk.send_case(new_user("Ann", "Housing"))
    steps = intake_to_review("Bea Urgent")
    steps[14] = (("text", "We face eviction on Friday."), "That is everything")
    urgent = await desk.send_case(new_user("Bea", "Urgent"), steps)
    mine = await desk.send_case(new_user("Cy", "Mine"))
    who = await desk.services.staff.authorise(_actor(SAM.user_id), "test")
    await desk.services.staff.claim(who, mine)
    await sign_in(desk, page)
    await expect(page.locator("#results tbody tr")).to_have_count(1)
    await expect(page.locator("#results tbody")).to_contain_text(mine)
    await page.get_by_role("link", name=re.compile("^Urgent 1")).click()
    await expect(page.locator("#results tbody tr")).to_have_count(1)
    await expect(page.locator("#results tbody")).to_contain_text("mentions eviction")
    await page.get_by_role("link", name=re.compile("^All open 3")).click()
    rows = page.locator("#results tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.first).to_contain_text(urgent)  # urgent on top
    await page.get_by_label("Assigned to").select_option(label="Nobody")
    await expect(page).to_have_url(re.compile(r"assignee=0"))
    await expect(rows).to_have_count(2)
    await page.get_by_label("Order").select_option(value="newest")
    await expect(rows.first).to_contain_text(urgent)
    await expect(rows.last).to_contain_text(housing)
    await page.get_by_label("Category").select_option(label="Immigration, visas and passports")
    await expect(page.locator("#results")).to_contain_text("No cases match.")


async def test_search_offers_the_case_a_mistyped_reference_meant(desk: Desk, page: Page) -> None:
    reference = await desk.send_case(new_user("Dai", "Jones"))
    body = reference.split("-")[1]
    slip = body[:2] + next(c for c in ALPHABET if c != body[2]) + body[3:]
    await sign_in(desk, page)
    await page.goto(f"{desk.base}/search?q=SOT-{slip}")
    await expect(page.locator("main")).to_contain_text("is not a correct reference. Did you mean")
    await page.get_by_role("link", name=reference).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(reference)


async def test_each_action_through_the_case_page(desk: Desk, page: Page) -> None:
    user = new_user("Eli", "Action")
    reference = await desk.send_case(user)
    await sign_in(desk, page)
    await page.goto(f"{desk.base}/cases/{reference}")
    await page.get_by_role("button", name="Claim this case").click()
    await expect(page.get_by_role("status")).to_contain_text("You have claimed this case.")
    await expect(page.locator("dl").first).to_contain_text("Sam")
    await page.get_by_label("Assign to").select_option(label="Priya")
    await page.get_by_role("button", name="Assign", exact=True).click()
    await expect(page.locator("dl").first).to_contain_text("Priya")
    await page.get_by_label("Status", exact=True).select_option(label="Waiting on organisation")
    await page.get_by_role("button", name="Change status").click()
    await expect(page.locator("dl").first).to_contain_text("Waiting on organisation")
    await page.get_by_role("button", name="Close case").click()  # no outcome yet
    await expect(page.get_by_role("alert")).to_contain_text("Enter the outcome")
    await page.get_by_label("Closed — unable to help").check()
    await page.get_by_label("Outcome").fill("The council will not move them.")
    await page.get_by_role("button", name="Close case").click()
    await expect(page.locator("dl").first).to_contain_text("Closed — unable to help")
    await desk.harness.settle()
    assert len(constituent_texts(desk, user.user_id, "has been closed")) == 1
    history = page.locator("main table").last
    for said in ("claimed it for Sam", "assigned it to Priya", "set the status to Waiting"):
        await expect(history).to_contain_text(said)
    case = (await desk.services.intake.cases_of(user.user_id))[-1]
    assert (case.status.value, case.assignee) == ("closed_unable", PRIYA.user_id)


async def test_a_stale_form_says_so_and_changes_nothing(
    desk: Desk, page: Page, context: BrowserContext
) -> None:
    reference = await desk.send_case(new_user("Fay", "Stale"))
    await sign_in(desk, page)
    await page.goto(f"{desk.base}/cases/{reference}")
    other = await context.new_page()
    await other.goto(f"{desk.base}/cases/{reference}")
    desk.harness.clock.advance(seconds=30)
    await other.get_by_role("button", name="Claim this case").click()
    await expect(other.get_by_role("status")).to_contain_text("claimed")
    await page.get_by_label("Add an internal note").fill("Typed before the claim")
    await page.get_by_role("button", name="Add note").click()
    await expect(page.get_by_role("alert")).to_contain_text("This case changed")
    await expect(page.get_by_label("Add an internal note")).to_have_value("Typed before the claim")
    await expect(page.locator(".message.note")).to_have_count(0)
    await expect(page.locator("dl").first).to_contain_text("Sam")


async def test_forms_without_the_token_and_forged_sessions_are_refused(
    desk: Desk, page: Page, context: BrowserContext
) -> None:
    reference = await desk.send_case(new_user("Gil", "Forged"))
    await sign_in(desk, page)
    answer = await page.request.post(
        f"{desk.base}/cases/{reference}/note", form={"text": "sneaky", "seen": "x"}
    )
    assert answer.status == 403
    assert "This form has expired" in await answer.text()
    token = await page.locator("input[name=csrf]").first.get_attribute("value")
    assert token
    elsewhere = await page.request.post(
        f"{desk.base}/cases/{reference}/note",
        form={"text": "sneaky", "seen": "x", "csrf": token},
        headers={"Origin": "https://attacker.example"},
    )
    assert elsewhere.status == 403
    forged = await context.browser.new_context()  # type: ignore[union-attr]
    await forged.add_cookies(
        [{"name": "desk_session", "value": "A" * 43, "url": desk.base, "sameSite": "Strict"}]
    )
    stranger = await forged.new_page()
    response = await stranger.goto(f"{desk.base}/cases/{reference}")
    assert response is not None
    assert response.status == 401
    await expect(stranger.locator("main")).not_to_contain_text(reference)
    await forged.close()
    messages = await desk.services.staff.view(
        await desk.services.staff.authorise(_actor(SAM.user_id), "test"), reference
    )
    assert not isinstance(messages, type(None))
    assert "sneaky" not in str(getattr(messages, "messages", ""))
    missing = await page.goto(f"{desk.base}/cases/SOT-2222222")
    assert missing is not None
    assert missing.status == 404
    await expect(page.locator("main")).to_contain_text("There is no case with the reference")


async def test_sign_out_and_sign_out_everywhere(
    desk: Desk, page: Page, context: BrowserContext
) -> None:
    await sign_in(desk, page)
    laptop = await context.browser.new_context()  # type: ignore[union-attr]
    other = await laptop.new_page()
    await sign_in(desk, other)
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await expect(page.locator("main")).to_contain_text("You are signed out on this browser")
    await page.goto(desk.base + "/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the casework desk")
    await other.reload()
    await expect(other.get_by_role("heading", name="Cases", level=1)).to_be_visible()
    await sign_in(desk, page)
    await page.get_by_role("button", name="Sign out everywhere").click()
    await expect(page.locator("main")).to_contain_text("signed out everywhere (2 sessions")
    await other.reload()
    await expect(other.get_by_role("heading", level=1)).to_have_text("Sign in to the casework desk")
    await laptop.close()


async def test_exports_download_as_the_queue_is_filtered(desk: Desk, page: Page) -> None:
    first = await desk.send_case(new_user("Hal", "Export"))
    await desk.send_case(new_user("Ivy", "Other"))
    who = await desk.services.staff.authorise(_actor(SAM.user_id), "test")
    await desk.services.staff.claim(who, first)
    await desk.services.staff.note(who, first, "Spoke to the landlord")
    await sign_in(desk, page)  # the Mine tab: only the claimed case
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Download export").click()
    download = await waiting.value
    assert download.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(_read(await download.path())))
    cases = list(book["Cases"].values)
    assert [row[0] for row in cases[1:]] == [first]
    assert [row[4] for row in list(book["Notes"].values)[1:]] == ["Spoke to the landlord"]
    await page.get_by_label("Format").select_option("csv")
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Download export").click()
    text = _read(await (await waiting.value).path()).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert [row[0] for row in table[1:]] == [first]


async def test_documents_are_fetched_through_the_bot(desk: Desk, page: Page) -> None:
    reference = await desk.send_case(new_user("Jo", "Letter"))
    await sign_in(desk, page)
    await page.goto(f"{desk.base}/cases/{reference}")
    view = page.get_by_role("link", name="View")
    href = await view.get_attribute("href")
    assert href is not None
    answer = await page.request.get(desk.base + href)
    assert answer.status == 200
    assert await answer.body() == LETTER
    assert answer.headers["content-disposition"].startswith("inline")
    saved = await page.request.get(desk.base + href + "?download=1")
    assert saved.headers["content-disposition"].startswith("attachment")
    assert desk.file_server.fetched == ["photos/file_1.jpg"] * 2
    missing = await page.request.get(f"{desk.base}/cases/{reference}/documents/5")
    assert missing.status == 404


async def test_pages_have_labels_headings_and_a_skip_link(desk: Desk, page: Page) -> None:
    reference = await desk.send_case(new_user("Kit", "Access"))
    await sign_in(desk, page)
    for path in ("/", "/search?q=Kit", f"/cases/{reference}"):
        await page.goto(desk.base + path)
        assert await page.get_attribute("html", "lang") == "en"
        await expect(page.locator("h1")).to_have_count(1)
        unlabelled = await page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea')]
                .filter(e => e.type !== 'hidden')
                .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
                .map(e => e.name)"""
        )
        assert unlabelled == [], path
        levels = await page.evaluate(
            "() => [...document.querySelectorAll('h1,h2,h3')].map(h => Number(h.tagName[1]))"
        )
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
        await page.keyboard.press("Tab")
        focused = await page.evaluate("() => document.activeElement.textContent")
        assert focused == "Skip to main content"


def _actor(user_id: int) -> Actor:
    return Actor(user_id, user_id)


def _read(path: Path) -> bytes:
    return path.read_bytes()
