"""The public entry page: from "never heard of Matrix" to "talking to a counsellor".

German by default, English at ``/en/``; plain language, no cookies, nothing from elsewhere.
In ``token`` registration mode it hands out single-use registration tokens, rate-limited.
"""

from homeserver_bridge.entry_page.app import (
    EntryPageError,
    RunningEntryPage,
    build_entry_app,
    serve_entry_page,
)
from homeserver_bridge.entry_page.content import (
    DEFAULT_EMERGENCY_NUMBERS,
    EmergencyNumber,
    EntryPageContent,
    EntryPageSettings,
)

__all__ = [
    "DEFAULT_EMERGENCY_NUMBERS",
    "EmergencyNumber",
    "EntryPageContent",
    "EntryPageError",
    "EntryPageSettings",
    "RunningEntryPage",
    "build_entry_app",
    "serve_entry_page",
]
