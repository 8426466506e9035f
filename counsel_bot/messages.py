"""What the bot says, in German and English. Plain language: the readers may be 12 years old.

Texts are looked up by key, so the cores decide *what* to say and never build sentences.
"""

from __future__ import annotations

from typing import Literal

Language = Literal["de", "en"]

CATALOGUE: dict[str, dict[Language, str]] = {
    "greeting": {
        "de": (
            "Hallo und willkommen! Schön, dass du schreibst.\n"
            "So geht es weiter: Eine Beraterin oder ein Berater kommt gleich in diesen Chat. "
            "Bis dahin kannst du schon aufschreiben, was dich beschäftigt – alles, was du jetzt "
            "schreibst, kann die Person lesen, sobald sie da ist.\n"
            "Du bleibst anonym: Wir kennen nur deinen Spitznamen. Der Chat ist Ende-zu-Ende "
            "verschlüsselt, nur du und das Beratungsteam können ihn lesen.\n"
            "Schreib „hilfe“, wenn du wissen willst, was du hier tun kannst.\n"
            "(You can write in English, too.)"
        ),
        "en": (
            "Hi and welcome! Good that you are writing.\n"
            "What happens next: a counsellor will join this chat soon. Until then you can already "
            "write down what is on your mind – the counsellor can read everything you write now "
            "as soon as they arrive.\n"
            "You stay anonymous: we only know your nickname. This chat is end-to-end encrypted; "
            "only you and the counselling team can read it.\n"
            "Write \"help\" to see what you can do here."
        ),
    },
    "unencrypted_room": {
        "de": (
            "Dieser Chat ist nicht verschlüsselt, deshalb beraten wir hier nicht. Ich habe dir "
            "einen verschlüsselten Chat geschickt – bitte nimm die Einladung an und schreib "
            "dort weiter. Schreib hier bitte nichts Persönliches."
        ),
        "en": (
            "This chat is not encrypted, so we don't counsel here. I have sent you an encrypted "
            "chat – please accept the invitation and continue there. Please don't write anything "
            "personal here."
        ),
    },
    "undecryptable": {
        "de": (
            "Deine letzte Nachricht konnte ich leider nicht entschlüsseln. Bitte schick sie noch "
            "einmal. Wenn das öfter passiert: Melde dich in deiner App ab und wieder an."
        ),
        "en": (
            "Sorry, I could not decrypt your last message. Please send it again. If this keeps "
            "happening, log out of your app and back in."
        ),
    },
    "staff_room_name": {"de": "Beratungsteam (intern)", "en": "Counselling team (internal)"},
    "staff_welcome": {
        "de": "Hier meldet der Bot neue Gespräche und Krisenhinweise. Nie Inhalte. „!help“ zeigt "
        "die Befehle.",
        "en": "The bot announces new conversations and crisis flags here. Never content. "
        "\"!help\" lists the commands.",
    },
    "staff_new_conversation": {
        "de": "Neues Gespräch {conversation} wartet (Sprache: {language}).",
        "en": "New conversation {conversation} is waiting (language: {language}).",
    },
    "intake_transcript_header": {
        "de": "Was {nickname} vor deinem Beitritt geschrieben hat ({count} Nachrichten):",
        "en": "What {nickname} wrote before you joined ({count} messages):",
    },
}


def text(key: str, language: Language, /, **params: object) -> str:
    """The text for ``key`` in ``language``; params fill ``{placeholders}``."""
    template = CATALOGUE[key][language]
    return template.format(**params) if params else template
