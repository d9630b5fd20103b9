"""The staff group's 20 messages a minute, shared by every topic: bursts, and one chatty person."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from support.intake import STAFF_CHAT, Clock, Harness, intake_to_review, new_user, services_of
from support.telegram import JSON, FakeUser, RecordingRequest
from telegram import Update
from telegram.request import RequestData

from bot.office import Office
from bot.service.outbox import RateLimit

PER_MINUTE = 20
# Calls that put something in the group or change it (getChat and the like only look).
COUNTED = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "editMessageText",
        "editMessageReplyMarkup",
        "createForumTopic",
        "editForumTopic",
        "closeForumTopic",
        "reopenForumTopic",
        "deleteForumTopic",
        "deleteMessages",
    }
)


@dataclass(frozen=True, slots=True)
class GroupCall:
    """A call to the staff group: what, into which topic, when (simulated seconds), about what."""

    method: str
    thread: int | None
    at: float
    text: str


class TimedRequest(RecordingRequest):
    """The offline Bot API, noting when (on a simulated clock) each call to the group came."""

    def __init__(self, now: list[float]) -> None:
        super().__init__()
        self.now = now
        self.group: list[GroupCall] = []

    def _answer(
        self, api_method: str, params: JSON, request_data: RequestData | None
    ) -> tuple[int | None, JSON]:
        status, body = super()._answer(api_method, params, request_data)
        if params.get("chat_id") == STAFF_CHAT and api_method in COUNTED:
            text = str(params.get("text", params.get("name", "")))
            self.group.append(
                GroupCall(api_method, params.get("message_thread_id"), self.now[0], text)
            )
        return status, body


@dataclass
class Simulated:
    """The bot with a forum staff group, its rate limit on a clock the test moves."""

    harness: Harness
    request: TimedRequest
    now: list[float]

    async def tick(self, seconds: float = 1.0) -> None:
        """Let a simulated second pass, delivering what is due."""
        self.now[0] += seconds
        self.harness.clock.advance(seconds=seconds)
        await services_of(self.harness.app).outbox.deliver_due()

    async def pending(self) -> int:
        """Return how many outbox entries wait."""
        async with services_of(self.harness.app).store.transaction() as tx:
            return await tx.count_pending()


@pytest.fixture(params=["forum", "flat"])
async def simulated(
    request: pytest.FixtureRequest, office: Office, clock: Clock
) -> AsyncIterator[Simulated]:
    """Return the bot on a simulated clock, with a forum staff group or a flat one."""
    now = [0.0]
    api = TimedRequest(now)
    if request.param == "forum":
        api.make_forum(STAFF_CHAT)
    async with Harness.running(office, clock, api) as harness:
        services_of(harness.app).outbox.group_limit = RateLimit(PER_MINUTE, 60.0, lambda: now[0])
        yield Simulated(harness, api, now)


async def ready_to_send(sim: Simulated, count: int) -> tuple[list[FakeUser], list[Update]]:
    """Bring ``count`` people to the point of pressing Send; return them and their presses."""
    harness = sim.harness
    template = new_user()
    await harness.run(template, intake_to_review())
    intake = services_of(harness.app).intake
    async with services_of(harness.app).store.transaction() as tx:
        draft = await tx.get_draft(template.user_id)
    assert draft is not None
    keyboard = harness.request.last_keyboard(template.user_id)
    data = next(str(b[1]) for row in keyboard for b in row if b[0] == "Send to the office")
    users = [new_user(f"Person{i}") for i in range(count)]
    async with intake.store.transaction() as tx:
        for user in users:
            await tx.save_draft(user.user_id, user.user_id, draft)
    presses = [harness.updates.callback(user, data, message_id=1) for user in users]
    return users, presses


def most_in_a_minute(calls: list[GroupCall]) -> int:
    """Return the most calls to the group in any 60 seconds."""
    times = sorted(c.at for c in calls)
    return max((sum(1 for t in times if start <= t < start + 60) for start in times), default=0)


async def test_a_burst_of_100_cases_is_delivered_within_the_groups_rate(
    simulated: Simulated,
) -> None:
    sim, harness = simulated, simulated.harness
    users, presses = await ready_to_send(sim, 100)
    await asyncio.gather(*(harness.app.process_update(p) for p in presses))
    for _ in range(3600):
        if await sim.pending() == 0:
            break
        await sim.tick()
    assert await sim.pending() == 0
    references = [
        (await services_of(harness.app).intake.cases_of(u.user_id))[0].reference for u in users
    ]
    # Every constituent was told at once (their chats are not the group's to share).
    for user in users:
        assert any("has been sent" in t for t in harness.request.sent_texts(user.user_id))
    cards = [c for c in sim.request.group if c.method == "sendMessage" and "Not urgent" in c.text]
    assert sorted(r for r in references for c in cards if f"<code>{r}</code>" in c.text) == sorted(
        references
    )
    assert len(cards) == 100
    assert most_in_a_minute(sim.request.group) <= PER_MINUTE
    if sim.request.forums:
        # Each case's topic was opened before its card was posted in it, and the card is first.
        topics = {
            c.text.split(" ·")[0]: c for c in sim.request.group if c.method == "createForumTopic"
        }
        for reference in references:
            opened = topics[reference]
            [card] = [c for c in cards if f"<code>{reference}</code>" in c.text]
            assert sim.request.group.index(opened) < sim.request.group.index(card)
    last = max(c.at for c in sim.request.group)
    # Two calls a case in a forum (its topic and its card), one in a flat group.
    calls_per_case = 2 if sim.request.forums else 1
    # As fast as the limit allows: a minute for every 20 calls, and a minute more at most.
    assert last <= 60 * (100 * calls_per_case // PER_MINUTE + 1)


async def test_a_chatty_constituent_holds_up_no_one_and_is_relayed_in_few_messages(
    simulated: Simulated,
) -> None:
    sim, harness = simulated, simulated.harness
    [chatty, newcomer], [press, their_press] = await ready_to_send(sim, 2)
    await harness.app.process_update(press)
    await sim.tick()
    # 40 messages in a minute, as many as the flood limit allows, for five minutes.
    newcomer_at: float | None = None
    for i in range(200):
        await harness.app.process_update(harness.updates.text(chatty, f"Message number {i}."))
        if i == 30:
            await harness.app.process_update(their_press)
            newcomer_at = sim.now[0]
        await sim.tick(1.5)
        assert await sim.pending() < 40  # the backlog does not grow
    for _ in range(300):
        if await sim.pending() == 0:
            break
        await sim.tick()
    assert await sim.pending() == 0
    reference = (await services_of(harness.app).intake.cases_of(newcomer.user_id))[0].reference
    [card] = [c for c in sim.request.group if c.text.startswith("⚪") and reference in c.text]
    assert newcomer_at is not None
    assert card.at - newcomer_at <= 2.0
    relays = [c for c in sim.request.group if "the constituent writes" in c.text]
    relayed = "".join(c.text for c in relays)
    assert all(f"Message number {i}." in relayed for i in range(200))
    assert len(relays) < 200 / 2
    assert most_in_a_minute(sim.request.group) <= PER_MINUTE
