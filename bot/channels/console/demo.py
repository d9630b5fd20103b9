"""``casework-bot demo``: the real intake, services, SQLite store and outbox, in a terminal.

No token and no network: a built-in office for Stoke-on-Trent Central, a database in a
temporary folder (removed at the end), the constituent's chat on this terminal, and after Send
the office's side: the card in the staff group, a caseworker claiming the case, adding a note
and replying, and the reply reaching the constituent.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import mimetypes
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

from bot.channels.console.render import ConsoleRenderer
from bot.channels.console.transport import ConsoleTransport
from bot.core.case import Case
from bot.core.catalogue import Msg
from bot.core.draft import Attachment
from bot.core.flow import StepKind
from bot.core.prompts import Button
from bot.core.replies import Back, Cancel, ContactReply, FileReply, Reply, TextReply
from bot.core.replies import reply_for_action as reply_for
from bot.office import Office, prepare
from bot.service.intake import RESTART, RESUME
from bot.service.staff import Actor, Done
from bot.service.types import Response, Sender
from bot.settings import Settings, settings_from
from bot.wiring import Services, build_services, open_store, start_services

STAFF_CHAT = -1009990001
SAM, PRIYA = 9001, 9002
YOU = Sender(user_id=1001, chat_id=1001, profile={"telegram_name": "Ada Lovelace"})
SHARED_PHONE = "+447911123456"
SHARE = "share-phone"
INSIDE, OUTSIDE = "ST4 1HH", "LA9 4DT"
NOTE = "Called the council's repairs team: an inspection is booked for Friday."
REPLY = "We have written to the council about the damp, and will tell you what they say."


def demo_settings(database: Path) -> Settings:
    """Return the built-in demo office's settings (no .env, no token needed)."""
    return settings_from(
        {
            "telegram_bot_token": "123456:demo-needs-no-token",
            "database_path": database,
            "constituency_code": "E14001520",
            "mp_name": "Jo Example",
            "office_phone": "01632 960 123",
            "office_email": "office@example.org",
            "office_address": "1 Example Street, Stoke-on-Trent",
            "staff_chat_id": STAFF_CHAT,
            "staff_user_ids": f"{SAM}:Sam,{PRIYA}:Priya",
            "reference_prefix": "SOT",
        }
    )


def banner(office: Office) -> str:
    """Return what the demo says before the first question."""
    where = office.constituency
    outside = office.postcodes.check(OUTSIDE)
    other = outside.constituency.name if outside.constituency else "another constituency"
    return (
        f"Casework bot demo: the enquiry service of {office.params['mp_name']}, MP for"
        f" {where.name} ({where.code}).\n"
        "No Telegram and no network: this terminal is your chat with the bot, and after you"
        " send, the office's side is shown too.\n"
        f"Postcodes to try: {INSIDE} (in {where.name}), {OUTSIDE} (in {other}: refused).\n"
        "Type a number to press a button, or type your answer. /back goes back, /cancel"
        " stops; at the documents question, type a file's path. Ctrl-D ends the demo.\n"
    )


class Demo:
    """One constituent's chat with the bot on a terminal, and the office's side."""

    def __init__(self, services: Services, out: TextIO) -> None:
        """Talk through ``services``, printing to ``out``."""
        office = services.office
        self.services, self.out = services, out
        self.renderer = ConsoleRenderer(office.catalogue, office.flow, services.staff.staff)
        self.buttons: list[Button] = []
        self.revision: int | None = None
        self.step: str | None = None
        names = {
            YOU.chat_id: "To you, in your chat with the bot",
            STAFF_CHAT: "To the staff group",
            SAM: "To Sam, in Sam's chat with the bot",
            PRIYA: "To Priya, in Priya's chat with the bot",
        }
        clock = services.intake.clock
        services.outbox.transport = ConsoleTransport(self.renderer, names, out, clock)

    def say(self, text: str) -> None:
        """Print a block of text."""
        self.out.write(f"{text}\n")
        self.out.flush()

    async def start(self) -> None:
        """Begin (or offer to resume) the intake, as /start does."""
        await self.show(await self.services.intake.start(YOU))

    async def on_line(self, line: str) -> bool:
        """Act on one typed line; return False to end the demo."""
        text = line.strip()
        intake = self.services.intake
        if text in ("/quit", "/exit"):
            return False
        if not text:
            return True
        if text in ("/help", "/privacy", "/about"):
            self.say(self.renderer.text(Msg(text[1:], self.services.office.params)))
            return True
        if text == "/start":
            response = await intake.start(YOU)
        elif text.isdigit() and 1 <= int(text) <= len(self.buttons):
            response = await self._press(self.buttons[int(text) - 1])
        else:
            response = await intake.handle(YOU, self._reply(text, line))
        await self.show(response)
        if response.case is not None:
            await self.office_side(response.case)
        return True

    def _reply(self, text: str, line: str) -> Reply:
        if text == "/back":
            return Back()
        if text == "/cancel":
            return Cancel()
        flow = self.services.office.flow
        at_documents = self.step is not None and flow.step(self.step).kind is StepKind.ATTACHMENTS
        path = Path(text).expanduser()
        if at_documents and path.is_file():
            return FileReply(_attachment(path))
        return TextReply(line.rstrip("\n"))

    async def _press(self, button: Button) -> Response:
        intake, revision = self.services.intake, self.revision or 0
        if button.action == SHARE:
            return await intake.handle(YOU, ContactReply(SHARED_PHONE))
        if button.action in (RESUME, RESTART):
            return await intake.choose(YOU, button.action, revision)
        reply = reply_for(button.action)
        assert reply is not None, button.action
        return await intake.handle(YOU, reply, revision)

    async def show(self, response: Response) -> None:
        """Print a response with its buttons numbered, then deliver whatever is owed."""
        if response.stale:
            self.say(self.renderer.text(Msg("notice.stale_button")))
        blocks, buttons = self.renderer.response(response)
        if response.prompt is not None:
            self.step, self.revision = response.prompt.step, response.revision
            if response.prompt.request_contact:
                buttons = [Button(Msg("button.share_phone"), SHARE), *buttons]
            self.buttons = buttons
        elif not response.stale:
            self.buttons, self.step = [], None
        for block in blocks:
            self.say(f"\n{block}")
        for number, button in enumerate(self.buttons if response.prompt else [], start=1):
            label = self.renderer.label(button.label)
            extra = f" (sends {SHARED_PHONE})" if button.action == SHARE else ""
            self.say(f"  {number}. {label}{extra}")
        # The person's own chat first, as its handler does on Telegram; then the rest.
        await self.services.outbox.deliver_lane(YOU.chat_id, response.owed)
        await self.services.outbox.drain(10)

    async def office_side(self, case: Case) -> None:
        """Show what caseworkers do next: claim the case, note it, reply to the constituent."""
        staff, reference = self.services.staff, case.reference
        sam = await staff.authorise(Actor(SAM, STAFF_CHAT), "demo")
        self.say("\n=== The office's side: the staff group, where caseworkers work ===")
        actions: tuple[tuple[str, Callable[[], Awaitable[Done]]], ...] = (
            (f"/claim {reference}", lambda: staff.claim(sam, reference)),
            (f"/note {reference} {NOTE}", lambda: staff.note(sam, reference, NOTE)),
            (f"/reply {reference} {REPLY}", lambda: staff.reply(sam, reference, REPLY)),
        )
        for command, action in actions:
            self.say(f"\nSam sends: {command}")
            done = await action()
            self.say(f"Bot: {self.renderer.text(done.msg)}")
            await self.services.outbox.drain(10)
        self.say(
            "\n=== Back to you ===\nType a reply to Sam (it is added to the case and passed to"
            " the team), send /start for a new enquiry, or press Ctrl-D to end."
        )


def _attachment(path: Path) -> Attachment:
    kind = "photo" if path.suffix.lower() in (".jpg", ".jpeg", ".png") else "document"
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    return Attachment(
        kind=kind,
        file_id=f"file:{path.resolve()}",
        file_unique_id=digest,
        file_name=path.name,
        mime_type=mimetypes.guess_type(path.name)[0],
    )


async def _open(office: Office, out: TextIO) -> Demo:
    store = await open_store(office.settings.database_path)
    services = build_services(office, store)
    await start_services(services)
    return Demo(services, out)


def run_demo(out: TextIO = sys.stdout) -> int:
    """Run the demo on this terminal until end of input (Ctrl-D); return the exit status."""
    folder = Path(tempfile.mkdtemp(prefix="casework-demo-"))
    try:
        office = prepare(demo_settings(folder / "casework.sqlite3"))
        out.write(banner(office))
        loop = asyncio.new_event_loop()
        try:
            demo = loop.run_until_complete(_open(office, out))
            try:
                loop.run_until_complete(demo.start())
                _converse(loop, demo)
            finally:
                loop.run_until_complete(demo.services.store.close())
        finally:
            loop.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    out.write("\nEnd of the demo; its database is deleted.\n")
    return 0


def _converse(loop: asyncio.AbstractEventLoop, demo: Demo) -> None:
    """Read lines until end of input, acting on each in the demo's loop."""
    with contextlib.suppress(ImportError):  # line editing for input(), where there is one
        import readline  # noqa: F401
    while True:
        try:
            line = input("\n> ")
        except (EOFError, KeyboardInterrupt):
            return
        if not loop.run_until_complete(demo.on_line(line)):
            return
