"""Reply templates for any channel: list, save (checked), delete, and fill one for a case."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.core.catalogue import Catalogue, Msg
from bot.core.references import parse_reference
from bot.core.staff import StaffDirectory
from bot.core.templates import (
    ReplyTemplate,
    TemplateError,
    case_values,
    check_body,
    check_name,
    fill,
)
from bot.service.staff import Caseworker
from bot.storage.store import Store, StoreError


@dataclass(frozen=True, slots=True)
class FilledTemplate:
    """A template filled for one case: the text to edit and send as a reply."""

    name: str
    reference: str
    text: str


class TemplateService:
    """The office's standard replies, kept in the store and edited by office managers."""

    def __init__(
        self,
        store: Store,
        staff: StaffDirectory,
        catalogue: Catalogue,
        *,
        clock: Callable[[], datetime],
        reference_prefix: str,
        office_params: Mapping[str, str],
        seed: Mapping[str, str],
    ) -> None:
        """Keep the store, the staff (for the caseworker's name) and the templates to seed."""
        self.store = store
        self.staff = staff
        self.catalogue = catalogue
        self.clock = clock
        self.reference_prefix = reference_prefix
        self.params = office_params
        self._seed = seed

    async def start(self) -> None:
        """Seed the templates on the first run; check every stored one (StoreError if not)."""
        async with self.store.transaction() as tx:
            await tx.seed_templates(self._seed)
            stored = await tx.list_templates()
        for template in stored:
            try:
                check_body(template.body)
            except TemplateError as exc:
                reason = self.catalogue.render(exc.msg, _as_is)
                raise StoreError(
                    f"Reply template {template.name!r} in the database cannot be used: {reason}"
                ) from exc

    async def list_templates(self) -> list[ReplyTemplate]:
        """Return every template, by name."""
        async with self.store.autocommit() as tx:
            return await tx.list_templates()

    async def get_template(self, name: str) -> ReplyTemplate | None:
        """Return the template called ``name`` (a leading # is allowed), if there is one."""
        try:
            key = check_name(name)
        except TemplateError:
            return None
        async with self.store.autocommit() as tx:
            return await tx.get_template(key)

    async def save_template(self, who: Caseworker, name: str, body: str) -> ReplyTemplate:
        """Check and store a template (new or changed); audited. Raises TemplateError.

        Only an office manager may change the office's templates.
        """
        if not who.manager:
            raise TemplateError(Msg("template.managers_only"))
        template = ReplyTemplate(check_name(name), check_body(body), self.clock(), who.user_id)
        async with self.store.transaction() as tx:
            existed = await tx.get_template(template.name) is not None
            await tx.save_template(template)
            action = "template_changed" if existed else "template_added"
            await tx.record(
                template.updated_at or self.clock(), who.user_id, action, None, template.name
            )
        return template

    async def delete_template(self, who: Caseworker, name: str) -> bool:
        """Delete a template; audited. Return False if there was none. Raises TemplateError."""
        if not who.manager:
            raise TemplateError(Msg("template.managers_only"))
        key = check_name(name)
        async with self.store.transaction() as tx:
            deleted = await tx.delete_template(key)
            if deleted:
                await tx.record(self.clock(), who.user_id, "template_deleted", None, key)
        return deleted

    async def fill(self, who: Caseworker, reference: str, name: str) -> FilledTemplate:
        """Return the template filled for a case by ``who`` (TemplateError if it cannot be)."""
        key = check_name(name)
        canonical = parse_reference(reference, self.reference_prefix)
        async with self.store.autocommit() as tx:
            template = await tx.get_template(key)
            stored = None if canonical is None else await tx.get_case(canonical)
        if template is None:
            raise TemplateError(Msg("template.not_found", {"name": key}))
        if stored is None:
            raise TemplateError(Msg("staff.not_found", {"reference": reference.strip()[:40]}))
        name_shown = self.staff.name_of(who.user_id) or ""
        values = case_values(stored.case, name_shown, self.params)
        return FilledTemplate(key, stored.case.reference, fill(template.body, values))


def _as_is(text: str) -> str:
    return text
