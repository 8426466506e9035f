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
    "notes.handover": _both(
        "Fallnotizen zu {conversation} ({count}), bevor du den Verlauf liest:\n{notes}",
        "Case notes on {conversation} ({count}), before you read the transcript:\n{notes}",
    ),
    "notes.saved": _both(
        "Notiz zu {conversation} gespeichert (verschlüsselt, {count} insgesamt). Wer "
        "übernimmt, sieht sie hier vor dem Verlauf.",
        "Note on {conversation} saved (sealed, {count} in all). Whoever takes over sees it "
        "here before the transcript.",
    ),
    "notes.saved_in_youth_room": _both(
        "Notiz zu {conversation} gespeichert ({count} insgesamt), und der Befehl wurde aus "
        "dem Raum der Person gelöscht. Aber: Der Text war schon verschlüsselt an ihre "
        "Geräte gegangen und kann dort gelesen worden sein. Notizen bitte hier im Teamraum "
        "schreiben: „!note {conversation} …“.",
        "Note on {conversation} saved ({count} in all), and the command was redacted from "
        "the person's room. But: the text had already gone, encrypted, to their devices and "
        "may have been read there. Please write notes here in the staff room: "
        "\"!note {conversation} …\".",
    ),
    "notes.list": _both(
        "Fallnotizen zu {conversation} ({count}):\n{notes}",
        "Case notes on {conversation} ({count}):\n{notes}",
    ),
    "notes.none": _both("Zu {conversation} gibt es keine Notizen.",
                        "There are no notes on {conversation}."),
    "notes.which": _both(
        "Zu welchem Gespräch? Im Teamraum: „!note C-XXXXXXXX text“.",
        "Which conversation? In the staff room: \"!note C-XXXXXXXX text\".",
    ),
    "notes.unknown": _both(
        "{conversation} gibt es nicht (mehr). Die Nummer steht in der Meldung zum Gespräch.",
        "{conversation} does not exist (any more). The id is in the conversation's notice.",
    ),
    "notes.not_yours": _both(
        "Notizen zu {conversation} schreiben und lesen nur die zuständige Person und die "
        "Teamleitung.",
        "Only the conversation's counsellor and team leads write and read notes on "
        "{conversation}.",
    ),
    "notes.full": _both(
        "{conversation} hat schon die Höchstzahl an Notizen; bitte fasse sie zusammen.",
        "{conversation} already has the most notes allowed; please summarise them.",
    ),
    "snippets.copy": _both(
        "Textbaustein „{name}“ zum Kopieren. Schick ihn selbst in den Raum der Person, dann "
        "ist er von deinem Gerät signiert und es sind deine Worte:\n\n{text}",
        "Snippet \"{name}\" to copy. Send it yourself in the person's room, so it is "
        "signed by your device and is your words:\n\n{text}",
    ),
    "snippets.unknown": _both(
        "Einen Textbaustein „{name}“ gibt es nicht. Vorhanden: {names}",
        "There is no snippet \"{name}\". Available: {names}",
    ),
    "snippets.added": _both(
        "Textbaustein „{name}“ gespeichert (verschlüsselt). Abrufen mit „!s {name}“.",
        "Snippet \"{name}\" saved (sealed). Use it with \"!s {name}\".",
    ),
    "snippets.removed": _both("Textbaustein „{name}“ entfernt.",
                              "Snippet \"{name}\" removed."),
    "snippets.list": _both("Textbausteine: {names}", "Snippets: {names}"),
}
