"""The office values the pure tests fill texts with."""

from __future__ import annotations

PARAMS = {
    "mp_name": "Jo Example",
    "constituency": "Stoke-on-Trent Central",
    "office_phone": "01782 232 000",
    "office_email": "office@example.org",
    "office_address": "1 Example Street, Stoke-on-Trent ST4 1AA",
    "response_days": "10",
    "retention_years": "2",
}
