"""What the handlers share, kept in the application's bot_data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from telegram.ext import Application, CallbackContext

from bot.channels.telegram.delivery import Delivery
from bot.channels.telegram.render import Renderer
from bot.channels.telegram.staff_render import StaffRenderer
from bot.core.catalogue import Catalogue
from bot.service.guard import Guard
from bot.service.intake import IntakeService
from bot.service.privacy import PrivacyService
from bot.service.staff import StaffService

KEY = "services"


@dataclass(slots=True)
class Services:
    """The running office: its intake service, renderer, catalogue and shared text values."""

    intake: IntakeService
    renderer: Renderer
    catalogue: Catalogue
    params: dict[str, str]
    staff: StaffService
    staff_renderer: StaffRenderer
    delivery: Delivery
    reference_prefix: str
    guard: Guard
    privacy: PrivacyService


def services(context: CallbackContext[Any, Any, Any, Any]) -> Services:
    """Return the services of the application handling ``context``."""
    return cast(Services, context.application.bot_data[KEY])


def install(application: Application[Any, Any, Any, Any, Any, Any], found: Services) -> None:
    """Make ``found`` available to every handler."""
    application.bot_data[KEY] = found
