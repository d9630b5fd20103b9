"""The staff desk in the browser: one-time login links, sessions, the queue, search, export.

Actions on a case go through the StaffService, as the Telegram commands do, so the staff
group's card and the constituent see the same result whichever channel a caseworker used.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.case import Case
from bot.core.catalogue import Catalogue, Msg
from bot.core.desk import (
    DESK_PAGE_SIZE,
    LOGIN_MINUTES,
    SESSION_HOURS,
    DeskQuery,
    Tab,
    secret_hash,
)
from bot.core.desk_export import (
    MESSAGE_FIELDS,
    case_fields,
    desk_row,
    to_document_json,
    to_table_csv,
    to_workbook,
)
from bot.core.draft import Attachment
from bot.core.export import export_row
from bot.core.flow import Flow
from bot.core.references import near_references, parse_reference
from bot.core.roles import CATEGORY
from bot.core.search import search_terms
from bot.core.workdays import london_date
from bot.service.staff import Actor, Caseworker, Done, NotStaffError, StaffService
from bot.storage.records import CaseMessage, LoginState, StoredCase
from bot.storage.store import Store

# Telegram's getFile serves files up to 20 MB to bots.
DOCUMENT_LIMIT = 20 * 1024 * 1024
SEARCH_LIMIT = 25
# Past this many, a search says "more than" rather than counting every case it finds.
SEARCH_COUNT_LIMIT = 1000


class DocumentError(Exception):
    """A document cannot be fetched now (too large, gone, Telegram unreachable): say so."""


@dataclass(frozen=True, slots=True)
class Download:
    """A document being fetched: its size if known, and its bytes as they arrive."""

    size: int | None
    chunks: AsyncIterator[bytes]


class Documents(Protocol):
    """Where constituents' documents are fetched from (the channel that received them)."""

    async def fetch(self, file_id: str, limit: int) -> Download:
        """Start fetching a document; raise DocumentError if it cannot be (over ``limit``...)."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: the secret for the browser's cookie, and whose it is."""

    session: str
    user_id: int


@dataclass(frozen=True, slots=True)
class LoginRefused:
    """Why a login link did not sign anyone in."""

    state: LoginState


@dataclass(frozen=True, slots=True)
class DeskPage:
    """One page of a queue view, with the count of every tab under the same filters."""

    rows: list[StoredCase]
    total: int
    page: int
    pages: int
    query: DeskQuery
    counts: dict[Tab, int]


@dataclass(frozen=True, slots=True)
class Found:
    """The cases a search found, and the references a mistyped one probably meant."""

    text: str
    rows: list[StoredCase]
    total: int
    likely: list[str]
    # More than ``total`` were found (the count stops there).
    more: bool = False


@dataclass(frozen=True, slots=True)
class Export:
    """An export ready to download."""

    data: bytes
    filename: str
    count: int


class DeskService:
    """What the desk does beyond the staff actions, for the web channel to call."""

    def __init__(
        self,
        store: Store,
        staff: StaffService,
        *,
        clock: Callable[[], datetime],
        public_url: str,
        flow: Flow,
        catalogue: Catalogue,
        secret: Callable[[], str] = lambda: secrets.token_urlsafe(32),
    ) -> None:
        """Keep the store, the staff service and where login links point."""
        self.store = store
        self.staff = staff
        self.clock = clock
        self.public_url = public_url.rstrip("/")
        self.flow = flow
        self.catalogue = catalogue
        self.secret = secret
        self._key: str | None = None

    async def key(self) -> str:
        """Return the desk's own key (made on first use and kept in the store)."""
        if self._key is None:
            async with self.store.transaction() as tx:
                self._key = await tx.desk_key(secrets.token_urlsafe(32))
        return self._key

    async def login_link(self, actor: Actor) -> str:
        """Return a one-time login link for a caseworker in their private chat with the bot.

        Raises NotStaffError for anyone else, or for staff asking anywhere but there.
        """
        if actor.user_id is None or actor.chat_id != actor.user_id:
            actor = Actor(None, actor.chat_id, actor.update_id)
        who = await self.staff.authorise(actor, "desk")
        token = self.secret()
        now = self.clock()
        async with self.store.transaction() as tx:
            until = now + timedelta(minutes=LOGIN_MINUTES)
            await tx.add_login(secret_hash(token), who.user_id, now, until)
            await tx.record(now, who.user_id, "desk_link")
        return f"{self.public_url}/login/{token}"

    async def sign_in(self, token: str) -> SignedIn | LoginRefused:
        """Spend a login link and open a session, or say why the link cannot be used."""
        now = self.clock()
        async with self.store.transaction() as tx:
            attempt = await tx.take_login(secret_hash(token), now)
            member = self.staff.staff.get(attempt.user_id)
            if attempt.state != "ok" or member is None:
                state: LoginState = attempt.state if attempt.state != "ok" else "unknown"
                await tx.record(now, attempt.user_id, "desk_login_refused", None, state)
                return LoginRefused(state)
            session = self.secret()
            until = now + timedelta(hours=SESSION_HOURS)
            await tx.add_session(secret_hash(session), member.user_id, now, until)
            await tx.record(now, member.user_id, "desk_login")
        return SignedIn(session, member.user_id)

    async def caseworker(self, session: str) -> Caseworker | None:
        """Return the caseworker a session belongs to, if it is current and they are staff."""
        if not session:
            return None
        async with self.store.autocommit() as tx:
            user_id = await tx.session_user(secret_hash(session), self.clock())
        if user_id is None:
            return None
        try:
            # Acting from the desk is acting from their own chat with the bot.
            return await self.staff.authorise(Actor(user_id, user_id), "desk")
        except NotStaffError:
            return None

    async def sign_out(self, who: Caseworker, session: str, *, everywhere: bool = False) -> int:
        """End this session (or every session of the caseworker); return how many ended."""
        async with self.store.transaction() as tx:
            if everywhere:
                ended = await tx.end_sessions(who.user_id)
            else:
                await tx.end_session(secret_hash(session))
                ended = 1
            action = "desk_signed_out_everywhere" if everywhere else "desk_signed_out"
            await tx.record(self.clock(), who.user_id, action, None, str(ended))
        return ended

    async def queue(self, who: Caseworker, query: DeskQuery) -> DeskPage:
        """Return a page of a queue view, recording that it was viewed."""
        query = replace(query, today=london_date(self.clock()))
        async with self.store.transaction() as tx:
            counts = await tx.count_tabs(query, staff_id=who.user_id)
            total = counts[query.tab]
            pages = max(1, -(-total // DESK_PAGE_SIZE))
            page = min(query.page, pages - 1)
            rows = await tx.list_desk(
                query, staff_id=who.user_id, offset=page * DESK_PAGE_SIZE, limit=DESK_PAGE_SIZE
            )
            await tx.record(self.clock(), who.user_id, "queue_viewed", None, query.tab.value)
        return DeskPage(rows, total, page, pages, query, counts)

    async def search(self, who: Caseworker, text: str) -> Found:
        """Find cases by reference, name, postcode, phone, email, organisation or their words.

        A reference with a slip in it (the check character says so) offers the cases it was
        probably meant to be. The audit records how many were found, never what was asked.
        """
        prefix = self.staff.reference_prefix
        wanted = text.strip()[:200]
        async with self.store.transaction() as tx:
            canonical = parse_reference(wanted, prefix)
            exact = await tx.get_case(canonical) if canonical is not None else None
            likely = (
                [] if canonical else await tx.existing_references(near_references(wanted, prefix))
            )
            rows, total = await tx.search_desk(
                search_terms(wanted), limit=SEARCH_LIMIT, most=SEARCH_COUNT_LIMIT + 1
            )
            if exact is not None and all(r.id != exact.id for r in rows):
                rows, total = [exact, *rows][:SEARCH_LIMIT], total + 1
            more = total > SEARCH_COUNT_LIMIT
            total = min(total, SEARCH_COUNT_LIMIT)
            found = f"{'more than ' if more else ''}{total}"
            await tx.record(self.clock(), who.user_id, "searched", None, f"found={found}")
        return Found(wanted, rows, total, likely, more)

    async def current(self, reference: str) -> StoredCase | None:
        """Return a case as it is now (to tell whether a form on it is stale), unrecorded."""
        canonical = parse_reference(reference, self.staff.reference_prefix)
        if canonical is None:
            return None
        async with self.store.autocommit() as tx:
            return await tx.get_case(canonical)

    async def followups(self, case: Case) -> list[str]:
        """Return the cases opened after this one was closed (each linked to it)."""
        async with self.store.autocommit() as tx:
            mine = await tx.list_cases_for_user(case.user_id)
        return [s.case.reference for s in mine if s.case.linked_to == case.reference]

    async def document(
        self, who: Caseworker, reference: str, number: int, documents: Documents
    ) -> tuple[Attachment, Download] | Done:
        """Start fetching a case's document ``number``, recording that it was opened."""
        stored = await self.current(reference)
        if stored is None or not 0 <= number < len(stored.case.attachments):
            return Done(Msg("staff.not_found", {"reference": reference[:40]}))
        attachment = stored.case.attachments[number]
        async with self.store.transaction() as tx:
            await tx.record(
                self.clock(), who.user_id, "document_viewed", stored.case.reference, str(number)
            )
        return attachment, await documents.fetch(attachment.file_id, DOCUMENT_LIMIT)

    async def export(self, who: Caseworker, query: DeskQuery, fmt: str, table: str) -> Export:
        """Export the cases of a queue view, with their notes and messages, recording it.

        CSV holds one table (``table``: cases, notes or messages); JSON and XLSX hold all three.
        """
        fields = case_fields(self.flow)
        cases: list[list[str]] = []
        notes: list[list[str]] = []
        messages: list[list[str]] = []
        query = replace(query, today=london_date(self.clock()))
        async with self.store.transaction() as tx:
            found = [stored async for stored in tx.iter_desk(query, staff_id=who.user_id)]
            for stored in found:
                case = stored.case
                base = export_row(
                    case,
                    assignee_name=self.staff.staff.name_of(case.assignee),
                    category_label=self.label(self._category_key(case.category)),
                    summary=case.summary,
                )
                row = desk_row(case, base, self.flow, self.label)
                cases.append([row[field] for field in fields])
                for message in await tx.list_messages(stored.id):
                    line = self._message_row(case.reference, message)
                    (notes if message.kind == "note" else messages).append(line)
            detail = f"{fmt} {table if fmt == 'csv' else 'all'} {len(found)} {query.tab.value}"
            await tx.record(self.clock(), who.user_id, "exported", None, detail)
        tables: dict[str, tuple[Sequence[str], Sequence[Sequence[str]]]] = {
            "cases": (fields, cases),
            "notes": (MESSAGE_FIELDS, notes),
            "messages": (MESSAGE_FIELDS, messages),
        }
        stamp = self.clock().strftime("%Y%m%d-%H%M")
        if fmt == "csv":
            data = to_table_csv(*tables[table])
            return Export(data, f"{table}-{stamp}.csv", len(found))
        data = to_workbook(tables) if fmt == "xlsx" else to_document_json(tables)
        return Export(data, f"cases-{stamp}.{fmt}", len(found))

    def label(self, key: str) -> str:
        """Return a catalogue text as plain text (a button's label, a status)."""
        return self.catalogue.render(Msg(key), str) if key in self.catalogue else key

    def _category_key(self, value: str) -> str:
        option = self.flow.step(CATEGORY).option(value)
        return option.label if option else value

    def _message_row(self, reference: str, message: CaseMessage) -> list[str]:
        author = self.staff.staff.name_of(message.author) or ""
        moment = message.at.replace(microsecond=0).isoformat()
        return [reference, moment, message.kind, author, message.text]
