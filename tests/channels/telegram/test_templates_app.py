"""Reply templates from Telegram: /templates lists them, /reply REF #name sends one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from channels.telegram.test_staff_app import command, generous, messages_of, send_case
from support.intake import SAM, Harness, make_settings, new_user

from bot.core.flow import FlowError
from bot.loading import FLOWS_DIR
from bot.office import prepare


async def test_templates_are_listed(harness: Harness) -> None:
    answer = await command(harness, SAM, "/templates")
    assert answer == [
        "<b>Reply templates</b>: #acknowledged, #need-documents, #no-reply-yet,"
        " #written-to-organisation\nSend /reply REF #name to send one."
    ]


async def test_reply_with_a_template_sends_it_filled_to_the_constituent(harness: Harness) -> None:
    generous(harness)
    user = new_user("Ada", "Lovelace")
    reference = await send_case(harness, user)
    answer = await command(harness, SAM, "/reply", reference, "#need-documents")
    assert answer[0] == f"Reply to {reference} is on its way to the constituent."
    sent = [
        call.text
        for call in harness.request.calls()
        if call.method == "sendMessage" and call.chat_id == user.user_id and call.text
    ]
    assert (
        f"Dear Ada, to take your case {reference} further I need a copy of the letter from"
        " Stoke-on-Trent City Council. You can send a photo of it here. Sam"
    ) in sent[-1]
    assert (await messages_of(harness, reference))[-1].startswith("Dear Ada, to take your case")


async def test_an_unknown_template_changes_nothing(harness: Harness) -> None:
    reference = await send_case(harness, new_user())
    answer = await command(harness, SAM, "/reply", reference, "#nope")
    assert answer == ["There is no reply template called nope. Send /templates to see them."]
    assert await messages_of(harness, reference) == []


def test_a_bad_template_file_stops_start_up_naming_it(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    (flows / "templates" / "replies.yaml").write_text("chase: Dear {name}\n", "utf-8")
    settings = make_settings(tmp_path / "db.sqlite3", flows_dir=flows)
    with pytest.raises(FlowError) as caught:
        prepare(settings)
    assert str(caught.value).startswith(
        "replies.yaml: template 'chase': {name} is not a placeholder a template can use."
    )
