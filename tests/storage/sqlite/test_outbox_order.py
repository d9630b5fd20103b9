"""The outbox's listing: lanes by priority within a chat, chats by turns; search and posts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.trips import Trips

from bot.core.case import Case, Consent, Urgency
from bot.core.catalogue import Msg
from bot.core.outbox import Cleanup, OwedMessage, OwedReply, Priority
from bot.core.search import search_terms
from bot.storage.sqlite.database import SqliteStore

STAFF_CHAT = -100777
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """Return a fresh store, closed after the test."""
    opened = await SqliteStore.open(tmp_path / "casework.sqlite3")
    yield opened
    await opened.close()


def a_case(number: int, *, urgent: bool = False, name: str = "Ada Lovelace") -> Case:
    """Return a case with reference SOT-<number>, made ``number`` minutes after NOW."""
    at = NOW + timedelta(minutes=number)
    return Case(
        reference=f"SOT-{number:07d}",
        user_id=5000 + number,
        chat_id=5000 + number,
        created_at=at,
        updated_at=at,
        flow_id="intake",
        flow_version=1,
        category="housing",
        constituency_code="E14001520",
        constituency_name="Stoke-on-Trent Central",
        answers={"full_name": name, "what_happened": "Damp in the flat"},
        consent=Consent(version="v1", answer="yes", recorded_at=at),
        urgency=Urgency(urgent=urgent, reasons=("deadline",) if urgent else ()),
    )


def relay(number: int, text: str = "Hello") -> Msg:
    """Return a constituent's relayed message on case ``number``."""
    return Msg("relay.to_staff", {"reference": f"SOT-{number:07d}", "text": text})


async def test_a_new_cases_card_goes_before_an_older_cases_messages(store: SqliteStore) -> None:
    async with store.transaction() as tx:
        chatty = await tx.create_case(a_case(1))
        await tx.set_card_message(chatty, 10)  # its card is posted: later cards are updates
        for i in range(3):
            await tx.owe(STAFF_CHAT, relay(1, f"message {i}"), NOW, chatty, relayed=True)
        await tx.owe_card(chatty, STAFF_CHAT, NOW)
        newcomer = await tx.create_case(a_case(2))
        await tx.owe_card(newcomer, STAFF_CHAT, NOW)
        urgent = await tx.create_case(a_case(3, urgent=True))
        await tx.owe_card(urgent, STAFF_CHAT, NOW)
        await tx.owe(5001, Msg("relay.received", {"reference": "SOT-0000001"}), NOW, chatty)
        due = await tx.list_due(NOW)
    group = [(e.case_id, e.kind, e.priority) for e in due if e.chat_id == STAFF_CHAT]
    assert group == [
        (urgent, "card", Priority.URGENT),
        (newcomer, "card", Priority.NEW_CASE),
        (chatty, "message", Priority.NORMAL),
    ]
    # A private chat is not crowded out by the group's lanes.
    assert [e.chat_id for e in due][:2] == [STAFF_CHAT, 5001]


async def test_an_urgent_notice_lifts_its_lane_but_keeps_its_order(store: SqliteStore) -> None:
    async with store.transaction() as tx:
        first = await tx.create_case(a_case(1))
        second = await tx.create_case(a_case(2))
        await tx.owe(STAFF_CHAT, relay(1), NOW, first)
        await tx.owe(STAFF_CHAT, relay(2), NOW, second)
        alert = Msg("staff.safeguarding_alert", {"reference": "SOT-0000002"})
        await tx.owe(STAFF_CHAT, alert, NOW, second, priority=Priority.URGENT)
        due = await tx.list_due(NOW)
        [head] = [e for e in due if e.case_id == second]
        behind = await tx.list_behind(head)
    assert [e.case_id for e in due] == [second, first]
    assert head.message is not None
    assert head.message.text.key == "relay.to_staff"  # the lane's order holds
    assert head.priority is Priority.URGENT
    assert [e.message.text.key for e in behind if e.message] == ["staff.safeguarding_alert"]


async def test_one_card_and_one_summary_wait_at_a_time_each_in_a_lane_of_its_own(
    store: SqliteStore,
) -> None:
    async with store.transaction() as tx:
        case_id = await tx.create_case(a_case(1))
        for _ in range(3):
            await tx.owe_card(case_id, STAFF_CHAT, NOW)
            await tx.owe_summary(STAFF_CHAT, NOW)
        await tx.owe_cleanup(STAFF_CHAT, Cleanup(topic_id=7, reference="SOT-0000001"), NOW)
        due = await tx.list_due(NOW)
        assert await tx.count_pending() == 3
    kinds = sorted((e.kind, e.priority) for e in due)
    assert kinds == [
        ("card", Priority.NEW_CASE),
        ("cleanup", Priority.NORMAL),
        ("summary", Priority.BACKGROUND),
    ]
    [cleanup] = [e.cleanup for e in due if e.cleanup]
    assert cleanup == Cleanup(topic_id=7, reference="SOT-0000001")


async def test_a_case_is_found_by_its_words_and_messages_and_not_once_erased(
    store: SqliteStore,
) -> None:
    async with store.transaction() as tx:
        ada = await tx.create_case(a_case(1))
        bo = await tx.create_case(a_case(2, name="Bo Jones"))
        await tx.add_message(ada, NOW, "note", 9001, "Rang the council about the mould")
        assert (await tx.search_cases(search_terms("lovelace")))[1] == 1
        rows, total = await tx.search_cases(search_terms("damp flat"))
        assert (total, [r.reference for r in rows]) == (2, ["SOT-0000002", "SOT-0000001"])
        assert (await tx.search_cases(search_terms("mould")))[1] == 1
        assert (await tx.search_cases(search_terms("SOT-0000002")))[1] == 1
        assert (await tx.search_cases([]))[1] == 0
        stored = await tx.get_case_by_id(ada)
        assert stored is not None
        await tx.erase_case(stored, NOW, "request")
        assert (await tx.search_cases(search_terms("lovelace")))[1] == 0
        assert (await tx.search_cases(search_terms("mould")))[1] == 0
        assert (await tx.search_cases(search_terms("damp")))[1] == 1
        assert bo


async def test_only_answerable_posts_and_cards_find_their_case(store: SqliteStore) -> None:
    async with store.transaction() as tx:
        case_id = await tx.create_case(a_case(1))
        await tx.set_card_message(case_id, 5)
        await tx.record_post(case_id, STAFF_CHAT, 6, None, NOW, answerable=True)
        await tx.record_post(case_id, STAFF_CHAT, 7, None, NOW)
        await tx.record_post(case_id + 99, STAFF_CHAT, 8, None, NOW, answerable=True)  # gone
        found = {m: await tx.case_for_post(STAFF_CHAT, m) for m in (5, 6, 7, 8)}
        posts = await tx.list_posts(case_id)
    assert {m: s.id if s else None for m, s in found.items()} == {
        5: case_id,
        6: case_id,
        7: None,
        8: None,
    }
    assert [p.message_id for p in posts] == [6, 7]


async def test_a_lane_read_with_the_commit_holds_the_messages_owed_as_a_later_read_parses_them(
    store: SqliteStore,
) -> None:
    ada = 4242
    async with store.transaction() as tx:
        await tx.owe(ada, Msg("earlier"), NOW - timedelta(minutes=5))
    replies = [
        OwedMessage.of_reply(OwedReply.of([Msg("intake.ask", {"n": str(n)})], revision=n))
        for n in range(2)
    ]
    async with store.transaction() as tx:
        for owed in replies:
            await tx.owe_message(ada, owed, NOW)
        read = tx.lane_with_commit(ada, 10)
    with_commit = read()
    assert with_commit is not None
    async with store.autocommit() as tx:
        later = await tx.lane_of_chat(ada, 10)
    assert with_commit == later
    messages = [entry.message for entry, _ in with_commit.waiting]
    assert messages == [OwedMessage.of(Msg("earlier")), *replies]
    # This transaction's own messages come back as they were owed, not parsed again.
    assert messages[1] is replies[0]
    assert messages[2] is replies[1]


async def test_a_new_case_goes_in_one_trip_with_its_commit_found_and_with_its_consent(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = Trips(store, monkeypatch)
    async with store.transaction() as tx:
        case_id = await tx.create_case(a_case(7, name="Grace Hopper"))
    assert trips.count == 2  # the case (its id), then the COMMIT with its index row and consent
    monkeypatch.undo()
    async with store.autocommit() as tx:
        assert (await tx.search_cases(search_terms("hopper")))[1] == 1
        rows = await tx.db.execute_fetchall(
            "SELECT version FROM consents WHERE case_id = ?", (case_id,)
        )
    assert [row[0] for row in rows] == ["v1"]
