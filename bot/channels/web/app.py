"""The staff desk's web app: sign-in by one-time link, the queue, search, cases and actions.

Pages are rendered on the server (Jinja2); htmx swaps the queue's and the search's results in
place. Every action calls the same services as the Telegram commands. Every form carries a
token bound to the session, and every session cookie is HttpOnly and SameSite=Strict.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.channels.web.views import OPEN_STATUSES, Texts, seen_stamp, shown_number, shown_share
from bot.core.case import CaseChannel, CaseStatus
from bot.core.catalogue import Msg
from bot.core.dates import long_date
from bot.core.desk import (
    DONE_ACTIONS,
    SESSION_HOURS,
    DeskQuery,
    Sort,
    Tab,
    form_token,
    read_query,
    same_token,
)
from bot.core.staff import StaffRole
from bot.core.taken import OutOfArea, Problem
from bot.core.templates import TemplateError
from bot.service.desk import DeskService, DocumentError, Documents, LoginRefused
from bot.service.staff import Caseworker, Done, StaffService
from bot.service.stats import Median, Period, PeriodError
from bot.service.team import TeamError
from bot.wiring import Services

COOKIE = "desk_session"
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# What can be done to many cases at once from the queue (a page of them at most).
BULK_ACTIONS = ("assign", "status", "close")
BULK_LIMIT = 100
TEAM_DONE = ("save", "remove")
TAKEN_CHANNELS = (CaseChannel.PHONE, CaseChannel.EMAIL, CaseChannel.IN_PERSON)
# The statistics page's charts, in the order StatsService gives them (their CSVs' names).
CHART_NAMES = ("received", "open", "promises", "intakes")
# Documents a browser may show in its own tab; anything else is downloaded.
SHOWN_INLINE = ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self';"
    " img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none';"
    " base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    # A login link's token is in its path: never send it to another site. (With no-referrer,
    # browsers would send "Origin: null" with the desk's own forms.)
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class _SecurityHeaders:
    """Add the desk's security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True, slots=True)
class Signed:
    """A request from a signed-in caseworker: who, and their session's secret."""

    who: Caseworker
    session: str


Handler = Callable[[Request, Signed], Awaitable[Response]]


class Desk:
    """The desk's pages over one office's services."""

    def __init__(self, services: Services, documents: Documents | None, *, secure: bool) -> None:
        """Keep the services, where documents come from, and whether cookies are Secure."""
        office = services.office
        self.services = services
        self.desk: DeskService = services.desk
        self.staff: StaffService = services.staff
        self.documents = documents
        self.secure = secure
        self.texts = Texts(office.catalogue, office.flow, office.staff, self.desk.clock)
        folder = resources.files("bot.channels.web") / "templates"
        self.env = Environment(
            loader=FileSystemLoader(str(folder)),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            auto_reload=False,
        )
        self.env.globals.update(t=self.texts.t, static=lambda name: f"/static/{name}")
        # Compiled now, once: a page's first view should not wait for its template.
        self.templates = {name: self.env.get_template(name) for name in self.env.list_templates()}
        self.office_name = office.params.get("mp_name", "")
        self.categories = frozenset(value for value, _ in self.texts.categories())
        scheme, _, rest = self.desk.public_url.partition("://")
        self.origin = f"{scheme}://{rest.split('/', 1)[0]}"

    # Rendering

    async def page(
        self,
        request: Request,
        template: str,
        signed: Signed | None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        """Render a whole page (with the session's form token when signed in)."""
        csrf = ""
        if signed is not None:
            csrf = form_token(await self.desk.key(), "session", signed.session)
        html = self.templates[template].render(
            office=self.office_name,
            who=signed.who if signed else None,
            who_name=self.texts.assignee(signed.who.user_id) if signed else "",
            csrf=csrf,
            **context,
        )
        return HTMLResponse(html, status_code=status)

    async def message(
        self,
        request: Request,
        signed: Signed | None,
        heading: str,
        *lines: str,
        status: int,
        back: bool = False,
    ) -> HTMLResponse:
        """Render a page that only says something (a refusal, a missing case)."""
        return await self.page(
            request,
            "message.html",
            signed,
            status,
            heading=heading,
            lines=list(lines),
            back="/" if back else "",
        )

    # Sessions and forms

    async def signed(self, request: Request) -> Signed | None:
        """Return who is signed in on this request, if anyone."""
        session = request.cookies.get(COOKIE, "")
        who = await self.desk.caseworker(session)
        return None if who is None else Signed(who, session)

    def signed_in(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a page that needs a session (and, for a POST, the session's form token)."""

        async def endpoint(request: Request) -> Response:
            signed = await self.signed(request)
            if signed is None:
                return await self.message(
                    request,
                    None,
                    self.texts.t("desk.signin.heading"),
                    self.texts.t("desk.signin.body"),
                    status=401,
                )
            if request.method == "POST":
                form = await request.form()
                expected = form_token(await self.desk.key(), "session", signed.session)
                if not self.same_origin(request) or not same_token(_field(form, "csrf"), expected):
                    return await self.message(
                        request,
                        signed,
                        self.texts.t("desk.csrf.heading"),
                        self.texts.t("desk.csrf.body"),
                        status=403,
                        back=True,
                    )
            return await handler(request, signed)

        return endpoint

    def same_origin(self, request: Request) -> bool:
        """Tell whether a form was posted from the desk's own pages, as far as the browser says.

        Browsers name the page a form came from in Origin; a request without it (not from a
        browser) still needs the form's token.
        """
        origin = request.headers.get("origin")
        if origin is None:
            return True
        host = request.headers.get("host", "")
        return origin in (self.origin, f"{request.url.scheme}://{host}")

    # Sign-in and out

    async def on_login_page(self, request: Request) -> Response:
        """Show the landing page of a login link: only its button (a POST) spends the link."""
        token = str(request.path_params["token"])[:100]
        login_csrf = form_token(await self.desk.key(), "login", token)
        return await self.page(request, "login.html", None, token=token, login_csrf=login_csrf)

    async def on_login(self, request: Request) -> Response:
        """Spend a login link and set the session cookie, or say why the link is no good."""
        form = await request.form()
        token = _field(form, "token")[:100]
        expected = form_token(await self.desk.key(), "login", token)
        valid = self.same_origin(request) and same_token(_field(form, "csrf"), expected)
        if not token or not valid:
            return await self.message(
                request,
                None,
                self.texts.t("desk.csrf.heading"),
                self.texts.t("desk.login.retry"),
                status=403,
            )
        result = await self.desk.sign_in(token)
        if isinstance(result, LoginRefused):
            return await self.message(
                request,
                None,
                self.texts.t("desk.login.refused_heading"),
                self.texts.t(f"desk.login.{result.state}"),
                self.texts.t("desk.signin.body"),
                status=400,
            )
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE,
            result.session,
            max_age=SESSION_HOURS * 3600,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )
        return response

    async def on_sign_out(self, request: Request, signed: Signed) -> Response:
        """End this session."""
        return await self._signed_out(request, signed, everywhere=False)

    async def on_sign_out_everywhere(self, request: Request, signed: Signed) -> Response:
        """End every session of this caseworker, on every browser."""
        return await self._signed_out(request, signed, everywhere=True)

    async def _signed_out(self, request: Request, signed: Signed, *, everywhere: bool) -> Response:
        ended = await self.desk.sign_out(signed.who, signed.session, everywhere=everywhere)
        key = "desk.signed_out.everywhere" if everywhere else "desk.signed_out.body"
        response = await self.message(
            request,
            None,
            self.texts.t("desk.signed_out.heading"),
            self.texts.t(key, count=ended),
            self.texts.t("desk.signin.body"),
            status=200,
        )
        response.delete_cookie(
            COOKIE, path="/", secure=self.secure, httponly=True, samesite="strict"
        )
        return response

    # The queue and search

    async def on_queue(self, request: Request, signed: Signed) -> Response:
        """Show a tab of the queue with its filters, counts and page."""
        params = {key: request.query_params[key] for key in request.query_params}
        query, ignored = read_query(params, self.texts.staff, self.categories)
        page = await self.desk.queue(signed.who, query)
        query = replace(query, page=page.page)
        tabs = [
            (tab, self.texts.t(f"desk.tab.{tab.value}"), _href("/", query.on(tab))) for tab in Tab
        ]
        prev_href = _href("/", query, page=str(page.page - 1)) if page.page > 0 else ""
        next_href = _href("/", query, page=str(page.page + 1)) if page.page + 1 < page.pages else ""
        export_params = [(k, v) for k, v in query.params(page="").items() if k != "page"]
        return await self.page(
            request,
            "queue.html",
            signed,
            page=page,
            rows=[self.texts.row(stored) for stored in page.rows],
            total=page.total,
            tabs=tabs,
            tab_label=self.texts.t(f"desk.tab.{query.tab.value}"),
            prev_href=prev_href,
            next_href=next_href,
            categories=self.texts.categories(),
            statuses=[(s.value, self.texts.status(s.value)) for s in CaseStatus],
            sorts=[(s.value, self.texts.t(f"desk.sort.{s.value}")) for s in Sort],
            staff=self.texts.staff.members,
            ignored=[self.texts.t(f"desk.filter.{name}") for name in ignored],
            export_params=export_params,
            open_statuses=[(s.value, self.texts.status(s.value)) for s in OPEN_STATUSES],
        )

    async def on_search(self, request: Request, signed: Signed) -> Response:
        """Find cases by reference, name, postcode, phone, email, organisation or words."""
        text = request.query_params.get("q", "")
        found = await self.desk.search(signed.who, text) if text.strip() else None
        return await self.page(
            request,
            "search.html",
            signed,
            text=found.text if found else "",
            rows=[self.texts.row(stored) for stored in found.rows] if found else [],
            total=found.total if found else 0,
            more=found.more if found else False,
            likely=found.likely if found else [],
        )

    # A case

    async def on_case(self, request: Request, signed: Signed) -> Response:
        """Show the whole case, recording that it was viewed."""
        reference = str(request.path_params["reference"])
        done = request.query_params.get("done", "")
        done_text = self.texts.t(f"desk.done.{done}") if done in DONE_ACTIONS else ""
        chosen = request.query_params.get("template", "")[:60]
        if not chosen:
            return await self.case_page(request, signed, reference, done=done_text)
        text, error = await self._filled(signed.who, reference, chosen)
        return await self.case_page(
            request,
            signed,
            reference,
            done=done_text,
            kept={"reply": text},
            chosen_template=chosen,
            template_error=error,
        )

    async def on_template(self, request: Request, signed: Signed) -> Response:
        """Return the reply box filled with a template for the case (htmx swaps it in)."""
        reference = str(request.path_params["reference"])
        chosen = request.query_params.get("template", "")[:60]
        if not chosen:
            return Response(status_code=204)  # nothing chosen: leave what was typed
        text, error = await self._filled(signed.who, reference, chosen)
        html = self.templates["_reply_text.html"].render(
            t=self.texts.t, reply_text=text, template_error=error
        )
        return HTMLResponse(html)

    async def _filled(self, who: Caseworker, reference: str, name: str) -> tuple[str, str]:
        """Return a template filled for a case, or why it cannot be (the text left empty)."""
        try:
            filled = await self.services.templates.fill(who, reference, name)
        except TemplateError as exc:
            return "", self.services.office.catalogue.render(exc.msg, str)
        return filled.text, ""

    async def case_page(
        self,
        request: Request,
        signed: Signed,
        reference: str,
        *,
        status: int = 200,
        done: str = "",
        stale: bool = False,
        errors: list[tuple[str, str]] | None = None,
        kept: dict[str, str] | None = None,
        chosen_template: str = "",
        template_error: str = "",
    ) -> Response:
        """Render a case page (after a refused action too, keeping what was typed)."""
        result = await self.staff.view(signed.who, reference)
        if isinstance(result, Done):
            return await self._missing(request, signed, result)
        followups = await self.desk.followups(result.stored.case)
        view = self.texts.case(result, signed.who.user_id, followups)
        return await self.page(
            request,
            "case.html",
            signed,
            status,
            view=view,
            done=done,
            stale=stale,
            errors=errors or [],
            kept={
                "note": "",
                "reply": "",
                "outcome": "",
                "follow_up": "",
                "follow_up_note": "",
                **(kept or {}),
            },
            staff=self.texts.staff.members,
            open_statuses=[(s.value, self.texts.status(s.value)) for s in OPEN_STATUSES],
            reply_templates=[
                found.name for found in await self.services.templates.list_templates()
            ],
            chosen_template=chosen_template,
            template_error=template_error,
        )

    async def _missing(self, request: Request, signed: Signed, done: Done) -> Response:
        text = self.services.office.catalogue.render(done.msg, str)
        return await self.message(
            request, signed, self.texts.t("desk.not_found.heading"), text, status=404, back=True
        )

    async def on_action(self, request: Request, signed: Signed) -> Response:
        """Do one action on a case from its page, unless the page was out of date."""
        reference = str(request.path_params["reference"])
        action = str(request.path_params["action"])
        form = await request.form()
        kept = {
            "note": _field(form, "text") if action == "note" else "",
            "reply": _field(form, "text") if action == "reply" else "",
            "outcome": _field(form, "outcome") if action == "close" else "",
            "follow_up": _field(form, "day") if action == "follow_up" else "",
            "follow_up_note": _field(form, "note") if action == "follow_up" else "",
        }
        current = await self.desk.current(reference)
        if current is None:
            result = await self.staff.view(signed.who, reference)
            assert isinstance(result, Done)
            return await self._missing(request, signed, result)
        if _field(form, "seen") != seen_stamp(current.case):
            return await self.case_page(
                request, signed, reference, status=409, stale=True, kept=kept
            )
        done, error = await self._act(signed.who, current.case.reference, action, form)
        if error is not None:
            return await self.case_page(
                request, signed, reference, status=400, errors=[error], kept=kept
            )
        assert done is not None
        target = f"/cases/{current.case.reference}?{urlencode({'done': action})}"
        return RedirectResponse(target, status_code=303)

    async def _act(
        self, who: Caseworker, reference: str, action: str, form: FormData
    ) -> tuple[Done | None, tuple[str, str] | None]:
        """Run an action through the staff service; return what it did, or the field at fault."""
        t, staff = self.texts.t, self.staff
        if action == "claim":
            return await staff.claim(who, reference), None
        if action == "assign":
            to = _field(form, "to")
            member = self.texts.staff.get(int(to)) if to.isdigit() else None
            if member is None:
                return None, ("assign-to", t("desk.error.assign"))
            return await staff.assign(who, reference, str(member.user_id)), None
        if action == "status":
            value = _field(form, "status")
            if value not in {s.value for s in OPEN_STATUSES}:
                return None, ("status-to", t("desk.error.status"))
            return await staff.set_status(who, reference, value), None
        if action in ("note", "reply"):
            text = _field(form, "text").strip()
            if not text:
                return None, (action, t(f"desk.error.{action}"))
            act = staff.note if action == "note" else staff.reply
            return await act(who, reference, text), None
        if action == "close":
            how, outcome = _field(form, "how"), _field(form, "outcome").strip()
            if how not in (CaseStatus.CLOSED.value, CaseStatus.CLOSED_UNABLE.value):
                return None, ("close-closed", t("desk.error.close_how"))
            if not outcome:
                return None, ("outcome", t("desk.error.outcome"))
            return await staff.set_status(who, reference, how, outcome), None
        if action == "follow_up":
            return await self._follow_up(who, reference, form)
        raise HTTPException(404)

    async def _follow_up(
        self, who: Caseworker, reference: str, form: FormData
    ) -> tuple[Done | None, tuple[str, str] | None]:
        """Set or clear the date to chase the organisation a case waits on."""
        day: date | None = None
        if _field(form, "clear") != "1":
            try:
                day = date.fromisoformat(_field(form, "day").strip())
            except ValueError:
                return None, ("follow_up", self.texts.t("desk.error.follow_up"))
        done = await self.staff.follow_up(who, reference, day, _field(form, "note"))
        if done.case is None:
            return None, ("follow_up", self.services.office.catalogue.render(done.msg, str))
        return done, None

    async def on_bulk(self, request: Request, signed: Signed) -> Response:
        """Do one action on each chosen case, each through the staff service and audited apart."""
        form = await request.form()
        action = _field(form, "action")
        if action not in BULK_ACTIONS:
            raise HTTPException(400)
        references = [r for r in form.getlist("ref") if isinstance(r, str)][:BULK_LIMIT]
        if not references:
            return await self.message(
                request,
                signed,
                self.texts.t("desk.bulk.heading"),
                self.texts.t("desk.bulk.none"),
                status=400,
                back=True,
            )
        lines = []
        for reference in dict.fromkeys(references):
            done, error = await self._act(signed.who, reference, action, form)
            if error is not None:
                said = error[1]
            else:
                assert done is not None
                said = self.services.office.catalogue.render(done.msg, str)
            lines.append(f"{reference}: {said}")
        return await self.message(
            request, signed, self.texts.t("desk.bulk.heading"), *lines, status=200, back=True
        )

    # Cases taken by phone, email or in person

    async def on_take_page(self, request: Request, signed: Signed) -> Response:
        """Show the form for a case a caseworker takes down."""
        return await self.taken_page(request, signed)

    async def taken_page(
        self,
        request: Request,
        signed: Signed,
        *,
        status: int = 200,
        answers: dict[str, str] | None = None,
        channel: str = CaseChannel.PHONE.value,
        how: str = "",
        errors: list[tuple[str, str]] | None = None,
        refused: str = "",
    ) -> Response:
        """Render the taken-case form, with what was typed and what is wrong with it."""
        given = answers or {}
        questions = [
            {
                "id": step.id,
                "label": self.texts.label(step.label) if step.label else step.id,
                "optional": step.optional,
                "options": [(o.value, self.texts.label(o.label)) for o in step.options],
                "long": step.collect or (step.max_length or 0) > 200,
                "value": given.get(step.id, ""),
            }
            for step in self.services.taken.questions()
        ]
        channels = [(c.value, self.texts.t(f"desk.taken.{c.value}")) for c in TAKEN_CHANNELS]
        return await self.page(
            request,
            "taken.html",
            signed,
            status,
            questions=questions,
            channels=channels,
            kept_channel=channel,
            kept_how=how,
            wording=self.services.taken.consent_wording() or "",
            errors=errors or [],
            refused=refused,
        )

    async def on_take(self, request: Request, signed: Signed) -> Response:
        """Make a case from a caseworker's answers, through the bot's own flow and checks."""
        form = await request.form()
        steps = self.services.taken.questions()
        answers = {step.id: _field(form, f"a-{step.id}") for step in steps}
        answers = {key: value for key, value in answers.items() if value.strip()}
        channel = next((c for c in TAKEN_CHANNELS if c.value == _field(form, "channel")), None)
        how = _field(form, "consent_how")
        if channel is None:
            error = ("channel", self.texts.t("desk.taken.no_channel"))
            return await self.taken_page(
                request,
                signed,
                status=400,
                errors=[error],
                answers=answers,
                channel=_field(form, "channel"),
                how=how,
            )
        result = await self.services.taken.take_case(signed.who, channel, answers, consent_how=how)
        render = self.services.office.catalogue.render
        if isinstance(result, OutOfArea):
            # Refused as in the bot, and nothing typed is kept, not even on the page.
            return await self.taken_page(
                request, signed, status=400, refused=render(result.msg, str)
            )
        if isinstance(result, Problem):
            error = (result.step, render(result.msg, str))
            return await self.taken_page(
                request,
                signed,
                status=400,
                errors=[error],
                answers=answers,
                channel=_field(form, "channel"),
                how=how,
            )
        target = f"/cases/{result.case.reference}?{urlencode({'done': 'taken'})}"
        return RedirectResponse(target, status_code=303)

    # The staff (office managers only)

    async def on_team(self, request: Request, signed: Signed) -> Response:
        """Show the office's staff, with forms to add, change and remove them."""
        return await self.team_page(request, signed, done=_done(request))

    async def manager_page(
        self,
        request: Request,
        signed: Signed,
        area: str,
        refusal: str,
        template: str,
        values: Callable[[], Awaitable[dict[str, Any]]],
        *,
        status: int,
        done: str,
        errors: list[tuple[str, str]] | None,
    ) -> Response:
        """Render an office manager's page (texts ``desk.<area>.*``), a refusal for anyone else.

        ``values`` gives the page's own values; it is called for office managers only.
        """
        if not signed.who.manager:
            return await self.message(
                request,
                signed,
                self.texts.t(f"desk.{area}.heading"),
                self.services.office.catalogue.render(Msg(refusal), str),
                status=403,
                back=True,
            )
        return await self.page(
            request,
            template,
            signed,
            status,
            done=self.texts.t(f"desk.{area}.done.{done}") if done else "",
            errors=errors or [],
            **await values(),
        )

    async def team_page(
        self,
        request: Request,
        signed: Signed,
        *,
        status: int = 200,
        done: str = "",
        errors: list[tuple[str, str]] | None = None,
    ) -> Response:
        """Render the staff page (a refusal for anyone but an office manager)."""

        async def values() -> dict[str, Any]:
            yes, no = self.texts.t("desk.team.yes"), self.texts.t("desk.team.no")
            members = [
                {
                    "user_id": m.user_id,
                    "name": m.name,
                    "role": self.texts.t(f"desk.team.role.{m.role.value}"),
                    "may_export": yes if m.may_export else no,
                    "specialisms": ", ".join(self.texts.category(c) for c in m.specialisms),
                }
                for m in self.services.team.list_staff()
            ]
            roles = [(r.value, self.texts.t(f"desk.team.role.{r.value}")) for r in StaffRole]
            return {"members": members, "roles": roles, "categories": self.texts.categories()}

        return await self.manager_page(
            request,
            signed,
            "team",
            "team.managers_only",
            "staff.html",
            values,
            status=status,
            done=done,
            errors=errors,
        )

    async def on_team_change(self, request: Request, signed: Signed) -> Response:
        """Add, change or remove a member of staff, through the team service (audited)."""
        form = await request.form()
        change = str(request.path_params["change"])
        text = _field(form, "user_id").strip()
        if not text.isdigit() or len(text) > 15:
            error = ("user_id", self.texts.t("desk.team.bad_user_id"))
            return await self.team_page(request, signed, status=400, errors=[error])
        team = self.services.team
        try:
            if change == "remove":
                await team.remove_member(signed.who, int(text))
            else:
                role = _field(form, "role")
                await team.save_member(
                    signed.who,
                    int(text),
                    _field(form, "name"),
                    role=StaffRole(role) if role in set(StaffRole) else StaffRole.CASEWORKER,
                    may_export=_field(form, "may_export") == "1",
                    specialisms=[s for s in form.getlist("specialism") if isinstance(s, str)],
                )
        except TeamError as exc:
            error = ("name", self.services.office.catalogue.render(exc.msg, str))
            return await self.team_page(request, signed, status=400, errors=[error])
        return RedirectResponse(f"/staff?done={change}", status_code=303)

    # The office's standard replies (office managers only)

    async def on_replies(self, request: Request, signed: Signed) -> Response:
        """Show the office's standard replies, each editable, and a form for a new one."""
        return await self.replies_page(request, signed, done=_done(request))

    async def replies_page(
        self,
        request: Request,
        signed: Signed,
        *,
        status: int = 200,
        done: str = "",
        errors: list[tuple[str, str]] | None = None,
        kept: tuple[str, str] = ("", ""),
    ) -> Response:
        """Render the standard replies page (a refusal for anyone but an office manager)."""

        async def values() -> dict[str, Any]:
            replies = await self.services.templates.list_templates()
            return {"replies": replies, "kept_name": kept[0], "kept_body": kept[1]}

        return await self.manager_page(
            request,
            signed,
            "replies",
            "template.managers_only",
            "replies.html",
            values,
            status=status,
            done=done,
            errors=errors,
        )

    async def on_replies_change(self, request: Request, signed: Signed) -> Response:
        """Save or delete a standard reply through the template service (checked, audited)."""
        form = await request.form()
        change = "remove" if str(request.path_params["change"]) == "delete" else "save"
        name, body = _field(form, "name"), _field(form, "body")
        templates = self.services.templates
        try:
            if change == "remove":
                await templates.delete_template(signed.who, name)
            else:
                await templates.save_template(signed.who, name, body)
        except TemplateError as exc:
            error = ("new-name", self.services.office.catalogue.render(exc.msg, str))
            return await self.replies_page(
                request, signed, status=400, errors=[error], kept=(name[:60], body)
            )
        return RedirectResponse(f"/replies?done={change}", status_code=303)

    async def on_document(self, request: Request, signed: Signed) -> Response:
        """Stream one of a case's documents from Telegram, keeping no copy of it."""
        reference = str(request.path_params["reference"])
        number = int(request.path_params["number"])
        if self.documents is None:
            return await self._no_document(request, signed, self.texts.t("desk.document.off"))
        try:
            result = await self.desk.document(signed.who, reference, number, self.documents)
        except DocumentError as exc:
            return await self._no_document(request, signed, str(exc))
        if isinstance(result, Done):
            return await self._missing(request, signed, result)
        attachment, download = result
        media = attachment.mime_type or (
            "image/jpeg" if attachment.kind == "photo" else "application/octet-stream"
        )
        name = attachment.file_name or f"{reference}-{number + 1}"
        if attachment.kind == "photo" and not attachment.file_name:
            name += ".jpg"
        inline = media in SHOWN_INLINE and request.query_params.get("download") != "1"
        disposition = "inline" if inline else "attachment"
        headers = {
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{_quote(name)}",
            "Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self';"
            " style-src 'unsafe-inline'",
        }
        if download.size is not None:
            headers["Content-Length"] = str(download.size)
        return StreamingResponse(download.chunks, media_type=media, headers=headers)

    async def _no_document(self, request: Request, signed: Signed, why: str) -> Response:
        heading = self.texts.t("desk.document.failed")
        return await self.message(request, signed, heading, why, status=502, back=True)

    async def on_export(self, request: Request, signed: Signed) -> Response:
        """Download the cases of a queue view (with notes and messages) as CSV, JSON or XLSX."""
        form = await request.form()
        params = {key: _field(form, key) for key in form}
        query, _ = read_query(params, self.texts.staff, self.categories)
        fmt = params.get("fmt", "")
        table = params.get("table", "cases")
        if fmt not in EXPORT_TYPES or table not in ("cases", "notes", "messages"):
            raise HTTPException(400)
        export = await self.desk.export(signed.who, query, fmt, table)
        headers = {"Content-Disposition": f'attachment; filename="{export.filename}"'}
        return Response(export.data, media_type=EXPORT_TYPES[fmt], headers=headers)

    # Statistics

    async def on_stats(self, request: Request, signed: Signed) -> Response:
        """Show the office's statistics for a chosen period: charts, their tables, CSVs."""
        start, end = request.query_params.get("start", ""), request.query_params.get("end", "")
        period, errors = self._period(start[:10], end[:10])
        if period is None:
            return await self.page(
                request,
                "stats.html",
                signed,
                400,
                errors=errors,
                start=start[:10],
                end=end[:10],
                stats=None,
            )
        stats = await self.services.stats.statistics(signed.who, period)
        query = urlencode({"start": period.start.isoformat(), "end": period.end.isoformat()})
        charts = [
            {
                "name": name,
                "title": chart.table.title,
                "svg": Markup(chart.svg),  # noqa: S704 - drawn by bot.core.charts, labels escaped
                "heading": chart.table.label_heading,
                "series": chart.table.series,
                "rows": [
                    (label, [shown_number(v) for v in values]) for label, values in chart.table.rows
                ],
                "csv_href": f"/stats/{name}.csv?{query}",
            }
            for name, chart in zip(CHART_NAMES, stats.charts(), strict=True)
        ]
        nothing = self.texts.t("desk.stats.none")
        shown = {
            "start": long_date(period.start),
            "end": long_date(period.end),
            "first_reply": self._median(stats.first_reply) or nothing,
            "closed": self._median(stats.closed) or nothing,
            "in_time": shown_share(stats.answered_in_time) or nothing,
            "charts": charts,
        }
        return await self.page(
            request,
            "stats.html",
            signed,
            errors=[],
            start=period.start.isoformat(),
            end=period.end.isoformat(),
            stats=shown,
        )

    async def on_stats_csv(self, request: Request, signed: Signed) -> Response:
        """Download one chart's numbers as CSV."""
        name = str(request.path_params["name"])
        if name not in CHART_NAMES:
            raise HTTPException(404)
        start, end = request.query_params.get("start", ""), request.query_params.get("end", "")
        period, _ = self._period(start[:10], end[:10])
        if period is None:
            raise HTTPException(400)
        stats = await self.services.stats.statistics(signed.who, period)
        chart = dict(zip(CHART_NAMES, stats.charts(), strict=True))[name]
        filename = f"{name}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        return Response(chart.table.csv(), media_type=EXPORT_TYPES["csv"], headers=headers)

    def _period(self, start: str, end: str) -> tuple[Period | None, list[tuple[str, str]]]:
        """Read a period from a form: the period, or the fields at fault and why."""
        days: list[date | None] = []
        errors: list[tuple[str, str]] = []
        for field_name, text in (("start", start), ("end", end)):
            try:
                days.append(date.fromisoformat(text.strip()) if text.strip() else None)
            except ValueError:
                days.append(None)
                errors.append((field_name, self.texts.t("desk.stats.bad_date")))
        if errors:
            return None, errors
        try:
            return self.services.stats.period(days[0], days[1]), []
        except PeriodError as exc:
            return None, [("start", self.services.office.catalogue.render(exc.msg, str))]

    def _median(self, median: Median) -> str:
        if median.days is None:
            return ""
        return self.texts.t("desk.stats.days", days=shown_number(median.days), count=median.count)

    async def on_not_found(self, request: Request, exc: Exception) -> Response:
        """Answer an unknown address (or a bad request) with a plain page."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        signed = await self.signed(request)
        key = "desk.not_found" if status == 404 else "desk.bad_request"
        return await self.message(
            request,
            signed,
            self.texts.t(f"{key}.heading"),
            self.texts.t(f"{key}.body"),
            status=status,
            back=signed is not None,
        )


def desk_app(services: Services, documents: Documents | None, *, secure: bool) -> ASGIApp:
    """Return the staff desk as an ASGI app."""
    desk = Desk(services, documents, secure=secure)
    static = resources.files("bot.channels.web") / "static"
    guard = desk.signed_in
    routes = [
        Route("/", guard(desk.on_queue), methods=["GET"]),
        Route("/search", guard(desk.on_search), methods=["GET"]),
        Route("/login/{token}", desk.on_login_page, methods=["GET"]),
        Route("/login", desk.on_login, methods=["POST"]),
        Route("/signout", guard(desk.on_sign_out), methods=["POST"]),
        Route("/signout-everywhere", guard(desk.on_sign_out_everywhere), methods=["POST"]),
        Route("/export", guard(desk.on_export), methods=["POST"]),
        Route("/bulk", guard(desk.on_bulk), methods=["POST"]),
        Route("/take", guard(desk.on_take_page), methods=["GET"]),
        Route("/staff", guard(desk.on_team), methods=["GET"]),
        Route("/replies", guard(desk.on_replies), methods=["GET"]),
        Route("/replies/{change:str}", guard(desk.on_replies_change), methods=["POST"]),
        Route("/staff/{change:str}", guard(desk.on_team_change), methods=["POST"]),
        Route("/take", guard(desk.on_take), methods=["POST"]),
        Route("/stats", guard(desk.on_stats), methods=["GET"]),
        Route("/stats/{name}.csv", guard(desk.on_stats_csv), methods=["GET"]),
        Route("/cases/{reference}", guard(desk.on_case), methods=["GET"]),
        Route("/cases/{reference}/template", guard(desk.on_template), methods=["GET"]),
        Route(
            "/cases/{reference}/documents/{number:int}", guard(desk.on_document), methods=["GET"]
        ),
        Route("/cases/{reference}/{action}", guard(desk.on_action), methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(static)), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={404: desk.on_not_found, 400: desk.on_not_found, 405: desk.on_not_found},
    )
    return _SecurityHeaders(app)


def _done(request: Request) -> str:
    """Return what a manager's page says was just done (``?done=``), if it is one it knows."""
    done = request.query_params.get("done", "")
    return done if done in TEAM_DONE else ""


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _href(path: str, query: DeskQuery, **changes: str) -> str:
    params = query.params(**changes)
    return f"{path}?{urlencode(params)}" if params else path


def _quote(name: str) -> str:
    return quote(name.replace("\n", " ")[:120], safe="")
