"""The step ids the code reads answers by, checked against every flow when it loads.

A flow is data an office may edit, but some of its step ids are named in code: a case takes
its category, postcode and consent from them, urgency reads the deadline, exports read the
name and address. Code should name these steps by the constants here, never by a literal,
and a flow that lacks one the code needs, or gives one another kind, fails at start-up
naming it (see ``check_flow``) instead of halfway through someone's intake.
"""

from __future__ import annotations

from typing import Final

from bot.core.flow import Role, StepKind

# Every case needs these: they must be in the flow and asked of everyone.
CATEGORY: Final = "category"
POSTCODE: Final = "postcode"
CONSENT: Final = "consent"

# Read when present; a flow may leave them out.
DEADLINE: Final = "deadline"
WHAT_HAPPENED: Final = "what_happened"
DESIRED_OUTCOME: Final = "desired_outcome"
POLICY_TOPIC: Final = "policy_topic"
POLICY_VIEW: Final = "policy_view"
FOR_WHOM: Final = "for_whom"
OTHER_NAME: Final = "other_name"
OTHER_RELATIONSHIP: Final = "other_relationship"
OTHER_AGREES: Final = "other_agrees"
OTHER_AUTHORITY: Final = "other_authority"
HELPER_ADDRESS: Final = "helper_address"
DATE_OF_BIRTH: Final = "date_of_birth"
FULL_NAME: Final = "full_name"
ADDRESS: Final = "address"
PHONE: Final = "phone"
EMAIL: Final = "email"
CONTACT_BY: Final = "contact_by"
ORGANISATION: Final = "organisation"

# The answer to FOR_WHOM that means the enquiry is for someone else (named in OTHER_NAME).
SOMEONE_ELSE: Final = "other"

_COPIED = "a follow-up enquiry starts with the answer from the last case"

ROLES: Final[tuple[Role, ...]] = (
    Role(CATEGORY, StepKind.CHOICE, "cases are routed and queued by it", required=True),
    Role(
        POSTCODE,
        StepKind.POSTCODE,
        "a case's constituency comes from the checked postcode",
        required=True,
    ),
    Role(
        CONSENT,
        StepKind.CONSENT,
        "every case records the person's consent from it",
        required=True,
    ),
    Role(
        DEADLINE,
        StepKind.TEXT,
        "a near deadline makes a case urgent, read as a date",
        validator="deadline_date",
    ),
    Role(WHAT_HAPPENED, StepKind.TEXT, "urgent words are looked for in it; it is the summary"),
    Role(DESIRED_OUTCOME, StepKind.TEXT, "urgent words are looked for in it"),
    Role(POLICY_VIEW, StepKind.TEXT, "a policy view's summary is taken from it"),
    Role(POLICY_TOPIC, StepKind.TEXT, "a policy view's summary is taken from it"),
    Role(
        FOR_WHOM,
        StepKind.CHOICE,
        f"exports say who a case is for when the answer is {SOMEONE_ELSE!r}; {_COPIED}",
        options=(SOMEONE_ELSE,),
    ),
    Role(OTHER_NAME, StepKind.TEXT, "exports and cards name who a case is for from it"),
    Role(OTHER_RELATIONSHIP, StepKind.TEXT, "cards and exports say how the helper knows them"),
    Role(OTHER_AGREES, StepKind.CHOICE, "cards and exports say whether the constituent agrees"),
    Role(OTHER_AUTHORITY, StepKind.CHOICE, "exports say what authority the helper has"),
    Role(HELPER_ADDRESS, StepKind.TEXT, "exports read the helper's own address from it"),
    Role(
        DATE_OF_BIRTH,
        StepKind.TEXT,
        "exports read the constituent's date of birth from it",
        validator="date_of_birth",
    ),
    Role(FULL_NAME, StepKind.TEXT, f"staff cards and exports show the name from it; {_COPIED}"),
    Role(ADDRESS, StepKind.TEXT, f"exports read the address from it; {_COPIED}"),
    Role(PHONE, StepKind.PHONE, f"exports read the phone number from it; {_COPIED}"),
    Role(EMAIL, StepKind.TEXT, f"exports read the email address from it; {_COPIED}"),
    Role(CONTACT_BY, StepKind.CHOICE, _COPIED),
    Role(ORGANISATION, StepKind.TEXT, "exports name the organisation from it"),
)
