"""The working day's jobs in the Telegram channel: the daily digest for the staff group."""

from __future__ import annotations

import logging

from bot.channels.telegram.context import Context

log = logging.getLogger(__name__)


async def on_digest(context: Context) -> None:
    """Owe the staff group today's digest (a JobQueue job at DIGEST_TIME, London time)."""
    sent = await context.bot_data.runtime.services.digest.send_daily()
    if sent is None:
        log.info("today's digest was already sent")
    else:
        log.info("digest owed: %s due today, %s overdue", sent.due_count, sent.overdue_count)
