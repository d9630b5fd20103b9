"""What the handlers share: the running office, typed, in the application's bot_data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.channels.telegram.render import Renderer
from bot.channels.telegram.staff_render import StaffRenderer
from bot.channels.web.server import DeskServer
from bot.core.catalogue import Catalogue
from bot.service.guard import Guard
from bot.service.intake import IntakeService
from bot.service.outbox import OutboxWorker
from bot.service.privacy import PrivacyService
from bot.service.staff import StaffService
from bot.wiring import Services


@dataclass(frozen=True, slots=True)
class Runtime:
    """The office's services with the Telegram renderers of its texts."""

    services: Services
    renderer: Renderer
    staff_renderer: StaffRenderer

    @property
    def intake(self) -> IntakeService:
        """Return the intake service."""
        return self.services.intake

    @property
    def staff(self) -> StaffService:
        """Return the staff service."""
        return self.services.staff

    @property
    def privacy(self) -> PrivacyService:
        """Return the retention and data-rights service."""
        return self.services.privacy

    @property
    def guard(self) -> Guard:
        """Return the guard run before every update."""
        return self.services.guard

    @property
    def outbox(self) -> OutboxWorker:
        """Return the outbox worker."""
        return self.services.outbox

    @property
    def catalogue(self) -> Catalogue:
        """Return the office's texts."""
        return self.services.office.catalogue

    @property
    def params(self) -> dict[str, str]:
        """Return the values every office text may use (the MP's name, the phone...)."""
        return self.services.office.params

    @property
    def reference_prefix(self) -> str:
        """Return what the office's case references start with."""
        return self.services.office.rules.reference_prefix


# An ASGI app, named without importing the web framework here.
WebApp = Callable[[Any, Any, Any], Awaitable[None]]


class BotData:
    """The application's ``bot_data``: the running office, once post_init has opened it."""

    def __init__(self) -> None:
        """Start empty; ``post_init`` installs the running office."""
        self.running: Runtime | None = None
        # The staff desk's web server, when it runs beside the bot, or its app when the
        # webhook's server serves it.
        self.desk: DeskServer | None = None
        self.desk_app: WebApp | None = None

    @property
    def runtime(self) -> Runtime:
        """Return the running office (a handler before post_init is a programming error)."""
        if self.running is None:
            raise RuntimeError("the office is not running yet")
        return self.running


Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)
