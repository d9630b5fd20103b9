"""The share-phone keyboard carries the question's Back and Skip, which read back as replies."""

from __future__ import annotations

import pytest
from support.keyboards import markup_of
from telegram import KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.channels.telegram.render import Renderer
from bot.core.catalogue import Msg
from bot.core.prompts import Button, Prompt
from bot.core.replies import Back, Skip, action_for
from bot.loading import FLOWS_DIR, load_catalogue
from bot.service.types import Response


def test_an_optional_phone_question_offers_share_skip_and_back() -> None:
    renderer = Renderer(load_catalogue(FLOWS_DIR / "locales"))
    prompt = Prompt(
        text=Msg("question.phone"),
        step="phone",
        buttons=(
            (Button(Msg("button.skip"), action_for(Skip())),),
            (Button(Msg("button.back"), action_for(Back())),),
        ),
        request_contact=True,
    )
    [message] = renderer.render(Response(prompt=prompt, revision=3))
    markup = markup_of(message)
    assert isinstance(markup, ReplyKeyboardMarkup)
    rows = [[button.text for button in row] for row in markup.keyboard]
    assert rows == [["Share my phone number"], ["Skip this question"], ["« Back"]]
    share = markup.keyboard[0][0]
    assert isinstance(share, KeyboardButton)
    assert share.request_contact
    assert renderer.keyboard_reply("Skip this question") == Skip()
    assert renderer.keyboard_reply("« Back") == Back()
    assert renderer.keyboard_reply("Back") is None


@pytest.mark.parametrize(
    "prompt",
    [
        Prompt(
            text=Msg("question.phone"),
            step="phone",
            buttons=((Button(Msg("button.skip"), action_for(Skip())),),),
            request_contact=True,
        ),
        Prompt(
            text=Msg("question.phone"),
            step="phone",
            buttons=(
                (Button(Msg("button.skip"), action_for(Skip())),),
                (Button(Msg("button.back"), action_for(Back())),),
            ),
        ),
    ],
    ids=["share-phone", "inline"],
)
def test_a_keyboard_is_sent_as_python_telegram_bot_would_send_its_object(prompt: Prompt) -> None:
    renderer = Renderer(load_catalogue(FLOWS_DIR / "locales"))
    [message] = renderer.render(Response(prompt=prompt, revision=3))
    markup = markup_of(message)
    assert markup is not None
    assert message.keyboard == markup.to_dict()


def test_a_closed_keyboard_is_removed_as_python_telegram_bot_would_remove_it() -> None:
    renderer = Renderer(load_catalogue(FLOWS_DIR / "locales"))
    [message] = renderer.render(
        Response(lead=(Msg("notice.keyboard_closed"),), remove_keyboard=True)
    )
    assert isinstance(markup_of(message), ReplyKeyboardRemove)
    assert message.keyboard == ReplyKeyboardRemove().to_dict()
