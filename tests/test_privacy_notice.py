"""The privacy notice says what a data-protection officer needs it to, and consent is pinned."""

from __future__ import annotations

import hashlib

import pytest

from bot.core.catalogue import Msg
from bot.loading import FLOWS_DIR, load_catalogue, load_flow
from bot.office import Office

REQUIRED_PARTS = [
    "Jo Example",  # the controller: the MP
    "Article 6(1)(e)",
    "Schedule 1, paragraphs 23 and 24",
    "DWP",  # who it is shared with
    "never to another MP's office",
    "Telegram",  # the chat's own processor, and what it keeps
    "telegram.org/privacy",
    "7 days after your last answer",
    "2 years after they are closed",
    "/mydata",
    "/delete",
    "/withdraw",
    "To correct something",
    "ico.org.uk",
    "0303 123 1113",
]


def test_the_privacy_notice_has_every_part(office: Office) -> None:
    notice = office.catalogue.render(Msg("privacy", office.params), lambda text: text)
    missing = [part for part in REQUIRED_PARTS if part not in notice]
    assert missing == []
    assert len(notice) < 4096  # one Telegram message


def test_the_welcome_points_to_the_privacy_notice(office: Office) -> None:
    welcome = office.catalogue.raw(office.flow.steps[0].text)
    assert "/privacy" in welcome


# The consent wording of each version, as agreed by the people who gave it. Changing the
# text means a new version in flows/intake.yaml and a new line here.
CONSENT_WORDING = {
    ("en", "2026-11-v1"): "6cbdbc3af1f943b3294a3758eb7257dace29fd767dab3f8b3ef9b747c0701e85",
    ("cy", "2026-11-v1"): "bdadbc75d37500fb3c656399bfb472e9a1756adbc9e47d57a4087d9c877446c9",
}


@pytest.mark.parametrize("locale", ["en", "cy"])
def test_the_consent_wording_does_not_change_without_a_new_version(locale: str) -> None:
    catalogue = load_catalogue(FLOWS_DIR / "locales", locale)
    flow = load_flow(FLOWS_DIR / "intake.yaml", load_catalogue(FLOWS_DIR / "locales"))
    [step] = [s for s in flow.steps if s.kind == "consent"]
    assert step.version is not None
    wording = "\n".join(catalogue.raw(key) for key in (step.text, *(o.label for o in step.options)))
    digest = hashlib.sha256(wording.encode("utf-8")).hexdigest()
    assert CONSENT_WORDING.get((locale, step.version)) == digest, (
        f"the {locale} consent wording is not the one agreed as version {step.version}:"
        f" give it a new version in intake.yaml and record it here as {digest}"
    )
