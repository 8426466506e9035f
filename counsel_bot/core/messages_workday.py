"""Texts of the counsellor's working day: response timers, case notes, snippets.

Kept apart from `messages.py` so the features that add texts there do not collide; the
catalogue takes these in at import.
"""

from __future__ import annotations

from counsel_bot.core.messages import Language


def _both(de: str, en: str) -> dict[Language, str]:
    return {"de": de, "en": en}


TEXTS: dict[str, dict[Language, str]] = {
    "timers.remind_first": _both(
        "⏰ {counsellor}: {conversation} wartet seit {minutes} Min. auf deine erste Antwort. "
        "Nach {requeue} Min. geht das Gespräch zurück in die Warteschlange.",
        "⏰ {counsellor}: {conversation} has waited {minutes} min for your first reply. "
        "After {requeue} min the conversation goes back to the queue.",
    ),
    "timers.remind_next": _both(
        "⏰ {counsellor}: In {conversation} wartet die Person seit {minutes} Min. auf eine "
        "Antwort. Nach {requeue} Min. geht das Gespräch zurück in die Warteschlange.",
        "⏰ {counsellor}: in {conversation} the person has waited {minutes} min for a reply. "
        "After {requeue} min the conversation goes back to the queue.",
    ),
    "timers.requeued": _both(
        "{conversation} hat {minutes} Min. keine Antwort von {counsellor} bekommen und ist "
        "zurück in der Warteschlange (vorne), damit jemand anderes übernehmen kann.",
        "{conversation} got no reply from {counsellor} for {minutes} min and is back in the "
        "queue (at the front), so someone else can take it.",
    ),
}
