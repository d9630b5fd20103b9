"""The bot as a separate process (``python -m bot``) against a Bot API server on 127.0.0.1."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from support.botapi import BotApiServer, BotProcess, Call, User
from support.e2e import play, query, reference_in
from support.intake import intake_to_review

pytestmark = pytest.mark.e2e


def draft_of(database: Path, user: User) -> tuple[str, dict[str, str | None]]:
    """Return the step a person's stored draft is at, and its answers."""
    rows = query(database, "SELECT state FROM drafts WHERE user_id = ?", user.user_id)
    assert len(rows) == 1, f"expected one draft for {user.user_id}, found {len(rows)}"
    state = json.loads(rows[0][0])
    return state["step"], {step: a["value"] for step, a in state["answers"].items()}


def statuses(calls: list[Call]) -> list[int | None]:
    """Return the HTTP statuses the calls were answered with."""
    return [call.status for call in calls]


async def test_a_whole_intake_ends_with_a_reference(
    api: BotApiServer, bot: BotProcess, database: Path
) -> None:
    ada = api.user("Ada", "Lovelace")
    await play(ada, intake_to_review())
    ada.press("Send to the office")
    confirmation = await ada.wait_for_text("Your enquiry has been sent")
    reference = reference_in(confirmation)

    rows = query(database, "SELECT reference, user_id, status, category FROM cases")
    assert rows == [(reference, ada.user_id, "new", "housing")]
    assert query(database, "SELECT count(*) FROM drafts") == [(0,)]
    commands = api.commands[("default", "")]  # constituents' menu; staff have their own
    names = [c["command"] for c in commands]
    assert names[:6] == ["start", "back", "cancel", "help", "privacy", "about"]
    assert api.unanswered_queries() == []
    assert api.rejected == [], "\n".join(map(str, api.rejected))
    [poll] = api.calls("getUpdates")[:1]
    assert poll.params["allowed_updates"] == ["message", "callback_query"]
    assert {c.content_type.split(";")[0] for c in api.calls()} <= {
        "application/x-www-form-urlencoded",
        "",
    }


async def test_killed_mid_intake_carries_on_at_the_same_question(
    api: BotApiServer, bot: BotProcess, database: Path
) -> None:
    ada = api.user("Ada", "Lovelace")
    steps = intake_to_review()
    asked = await play(ada, steps[:8])
    assert "What is your email address?" in asked.text
    await api.wait_confirmed()  # nothing left for the next run to fetch again

    assert await bot.kill() == -signal.SIGKILL
    await bot.start()
    await play(ada, [(("command", "/start"), "Do you want to carry on")])
    again = await play(ada, [(("tap", "Carry on"), "What is your email address?")])
    assert again.text == asked.text
    assert again.buttons == asked.buttons

    await play(ada, steps[8:])
    ada.press("Send to the office")
    reference = reference_in(await ada.wait_for_text("Your enquiry has been sent"))
    assert query(database, "SELECT reference, user_id FROM cases") == [(reference, ada.user_id)]
    assert query(database, "SELECT count(*) FROM drafts") == [(0,)]
    [data] = query(database, "SELECT data FROM cases")
    answers = json.loads(data[0])["answers"]
    assert answers["full_name"] == "Ada Lovelace"
    assert answers["email"] == "ada@example.org"


async def test_api_faults_lose_no_answers(
    api: BotApiServer, bot: BotProcess, database: Path
) -> None:
    ada = api.user("Ada", "Lovelace")
    steps = intake_to_review()
    await play(ada, steps[:3])  # ... "What is your full name?"

    # 500 twice for the reply: it was owed with the answer, and the outbox sends it when
    # Telegram answers again (after 2 s and 4 s of backoff).
    api.fail("sendMessage", 500, times=2, chat=ada)
    ada.send_text("Ada Lovelace")
    await ada.wait_for_text("What is your home postcode?", timeout=20)
    step, answers = draft_of(database, ada)
    assert (step, answers["full_name"]) == ("postcode", "Ada Lovelace")
    assert sum("home postcode" in m.text for m in ada.messages()) == 1

    # 429 (retry after 1 s) twice for the reply: it goes once Telegram allows, and only once.
    mark = api.mark()
    api.fail("sendMessage", 429, retry_after=1, times=2, chat=ada)
    ada.send_text("st4 1hh")
    await ada.wait_for_text("What is your address?", timeout=20)
    step, answers = draft_of(database, ada)
    assert (step, answers["postcode"]) == ("address", "ST4 1HH")
    assert statuses(api.calls("sendMessage", since=mark)) == [429, 429, 200]
    await play(ada, steps[5:6])  # the address -> "What is your phone number?"

    # getUpdates answered 500, 500, then 429: PTB waits 1 s, 1.5 s, then retry_after + 0.5 s,
    # and then fetches what was sent meanwhile.
    await api.wait_until(lambda: api.polling, what="a long poll")
    mark = api.mark()
    api.fail("getUpdates", 500, times=2)
    api.fail("getUpdates", 429, retry_after=1)
    await play(ada, steps[6:7])  # shares the phone number -> "What is your email address?"
    await play(ada, steps[7:8], timeout=20)  # sent while polling fails
    faulted = [c for c in api.calls("getUpdates", since=mark) if c.fault]
    assert statuses(faulted) == [500, 500, 429]

    # Hangs until the client gives up: the reply's sendMessage (Telegram never sends it) and
    # the next getUpdates (the long poll and the read timeout). The outbox sends the reply
    # again, and the intake carries on at the next question.
    await api.wait_until(lambda: api.polling, what="a long poll")
    mark = api.mark()
    api.hang("sendMessage", chat=ada, deliver=False)
    api.hang("getUpdates")
    ada.send_text("ada@example.org")
    await ada.wait_for_text("What is your date of birth?", timeout=25)
    step, answers = draft_of(database, ada)
    assert (step, answers["email"]) == ("date_of_birth", "ada@example.org")
    hung = [c for c in api.calls(since=mark) if c.fault == "hang"]
    assert sorted(c.method for c in hung) == ["getUpdates", "sendMessage"]
    await api.wait_until(
        lambda: all(c.abandoned for c in hung), what="the bot to give up on both hung calls"
    )

    # Recovered: the rest of the intake goes through and every answer is in the case.
    await play(ada, steps[9:])
    ada.press("Send to the office")
    reference = reference_in(await ada.wait_for_text("Your enquiry has been sent"))
    [(data,)] = query(database, "SELECT data FROM cases WHERE reference = ?", reference)
    answers = json.loads(data)["answers"]
    assert answers["full_name"] == "Ada Lovelace"
    assert answers["postcode"] == "ST4 1HH"
    assert answers["address"] == "12 Example Road, Stoke-on-Trent"
    assert answers["phone"] == "+447911123456"
    assert answers["email"] == "ada@example.org"
    assert answers["contact_by"] == "email"
    assert api.unanswered_queries() == []


async def test_sigterm_exits_cleanly(api: BotApiServer, bot: BotProcess, database: Path) -> None:
    ada = api.user("Ada", "Lovelace")
    await play(ada, intake_to_review()[:2])
    assert await bot.stop() == 0
    stderr = bot.stderr()
    assert "Traceback" not in stderr, stderr
    assert "ERROR" not in stderr, stderr
    assert api.pending_updates == []  # what it fetched was confirmed on the way out
    assert not database.with_name(database.name + "-wal").exists()  # the database was closed
    assert query(database, "SELECT count(*) FROM drafts") == [(1,)]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"TELEGRAM_BOT_TOKEN": None}, "Setting TELEGRAM_BOT_TOKEN is missing"),
        ({"MP_NAME": None}, "Setting MP_NAME is missing"),
        ({"CONSTITUENCY_CODE": "E14999999"}, "Setting CONSTITUENCY_CODE is not valid"),
    ],
    ids=["no-token", "no-mp-name", "unknown-constituency"],
)
async def test_a_bad_setting_stops_start_up_with_one_line(
    api: BotApiServer,
    bot_env: dict[str, str],
    tmp_path: Path,
    changes: dict[str, str | None],
    expected: str,
) -> None:
    env = dict(bot_env)
    for name, value in changes.items():
        if value is None:
            env.pop(name)
        else:
            env[name] = value
    process = BotProcess(api, tmp_path, env)
    try:
        process.launch()
        code = await process.wait_exit(timeout=20)
    finally:
        process.close()
    stderr = process.stderr().strip()
    assert code != 0, process.logs()
    assert len(stderr.splitlines()) == 1, process.logs()
    assert stderr.startswith(expected), process.logs()
    assert api.calls() == []


async def test_a_bad_gateway_at_start_up_is_retried(
    api: BotApiServer, bot_env: dict[str, str], tmp_path: Path
) -> None:
    api.fail("getMe", 502)
    process = BotProcess(api, tmp_path, bot_env)
    try:
        await process.start()
        await process.stop()
    finally:
        process.close()
