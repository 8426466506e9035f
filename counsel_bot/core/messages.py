"""What the bot says, in German and English. Plain language: the readers may be 12 years old.

Texts are looked up by key, so the cores decide *what* to say and never build sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

Language = Literal["de", "en"]

CATALOGUE: dict[str, dict[Language, str]] = {
    "greeting": {
        "de": (
            "Hallo und willkommen! Schön, dass du schreibst.\n"
            "So geht es weiter: Eine Beraterin oder ein Berater kommt in diesen Chat, sobald "
            "jemand frei ist; nach deiner ersten Nachricht sage ich dir, wie lange es etwa "
            "dauert. Bis dahin kannst du schon aufschreiben, was dich beschäftigt – alles, was "
            "du jetzt schreibst, kann die Person lesen, sobald sie da ist.\n"
            "Du bleibst anonym: Wir kennen nur deinen Spitznamen. Der Chat ist Ende-zu-Ende "
            "verschlüsselt, nur du und das Beratungsteam können ihn lesen.\n"
            "Schreib „hilfe“, wenn du wissen willst, was du hier tun kannst.\n"
            "(You can write in English, too: write \"english\" and I will answer in English.)"
        ),
        "en": (
            "Hi and welcome! Good that you are writing.\n"
            "What happens next: a counsellor will join this chat as soon as one is free; after "
            "your first message I will tell you about how long that takes. Until then you can "
            "already write down what is on your mind – the counsellor can read everything you "
            "write now as soon as they arrive.\n"
            "You stay anonymous: we only know your nickname. This chat is end-to-end encrypted; "
            "only you and the counselling team can read it.\n"
            "Write \"help\" to see what you can do here.\n"
            "(Auf Deutsch: schreib „deutsch“.)"
        ),
    },
    "unencrypted_room": {
        "de": (
            "Dieser Chat ist nicht verschlüsselt, deshalb beraten wir hier nicht. Ich habe dir "
            "einen verschlüsselten Chat geschickt – bitte nimm die Einladung an und schreib "
            "dort weiter. Schreib hier bitte nichts Persönliches.\n"
            "(English: this chat is not encrypted. Please accept my invitation to an encrypted "
            "chat and write there.)"
        ),
        "en": (
            "This chat is not encrypted, so we don't counsel here. I have sent you an encrypted "
            "chat – please accept the invitation and continue there. Please don't write anything "
            "personal here."
        ),
    },
    "shared_room": {
        "de": (
            "In diesem Chat sind mehrere Personen. Beraten kann ich nur zu zweit: Wenn du mit "
            "uns reden möchtest, starte bitte einen eigenen Chat nur mit mir, ohne andere. Was "
            "hier geschrieben wird, lese ich nicht und gebe ich nicht weiter.\n"
            "Wenn es dir gerade sehr schlecht geht: {emergency}\n"
            "(English: counselling is one to one. Please start a chat of your own with me.)"
        ),
        "en": (
            "There are several people in this chat. I can only counsel one to one: if you want "
            "to talk to us, please start a chat of your own with just me, without others. What "
            "is written here I do not read and do not pass on.\n"
            "If you are in a bad way right now: {emergency}"
        ),
    },
    "stranger_removed": {
        "de": (
            "Gerade ist noch jemand in diesen Chat gekommen. Dieser Chat ist nur für dich und "
            "die Beratung, damit niemand mitliest, was du hier schreibst. Deshalb habe ich die "
            "Person wieder aus dem Raum genommen. Du kannst einfach weiterschreiben."
        ),
        "en": (
            "Someone else just came into this chat. This chat is only for you and the "
            "counselling team, so that nobody reads along with what you write here. That is "
            "why I have taken that person out of the room again. You can just go on writing."
        ),
    },
    "stranger_stays": {
        "de": (
            "Gerade ist noch jemand in diesen Chat gekommen, und ich kann die Person nicht "
            "wieder herausnehmen, weil du ihr dieselben Rechte gegeben hast wie mir. Sie kann "
            "alles lesen, was du und die Beratung hier schreiben. Wenn du das nicht willst, "
            "nimm sie selbst aus dem Raum oder fang einen neuen Chat nur mit mir an."
        ),
        "en": (
            "Someone else just came into this chat, and I cannot take them out again because "
            "you gave them the same rights as me. They can read everything you and the "
            "counselling team write here. If you do not want that, remove them yourself or "
            "start a new chat with just me."
        ),
    },
    "stranger_uninvited": {
        "de": (
            "Gerade wurde noch jemand in diesen Chat eingeladen. Dieser Chat ist nur für dich "
            "und die Beratung, damit niemand mitliest, was du hier schreibst. Deshalb habe ich "
            "die Einladung zurückgenommen. Du kannst einfach weiterschreiben."
        ),
        "en": (
            "Someone else was just invited to this chat. This chat is only for you and the "
            "counselling team, so that nobody reads along with what you write here. That is "
            "why I have withdrawn the invitation. You can just go on writing."
        ),
    },
    "moving_room": {
        "de": (
            "Damit niemand sonst in diesen Chat kommen kann, beraten wir in einem eigenen, "
            "verschlüsselten Raum. Ich habe dich gerade eingeladen – bitte nimm die Einladung "
            "an und schreib dort.\n"
            "(English: please accept my invitation to a room of our own and write there.)"
        ),
        "en": (
            "So that nobody else can get into this chat, we counsel in a separate, encrypted "
            "room. I have just invited you – please accept the invitation and write there."
        ),
    },
    "moved_room_reminder": {
        "de": (
            "Deine Nachricht habe ich in den neuen, verschlüsselten Raum mitgenommen: Dort "
            "antwortet dir jemand aus dem Team. Bitte nimm die Einladung an und schreib dort "
            "weiter. Wenn es dir gerade sehr schlecht geht oder du in Gefahr bist, kannst du "
            "sofort mit jemandem sprechen: {emergency}"
        ),
        "en": (
            "I have taken your message along to the new, encrypted room: someone from the "
            "team will answer you there. Please accept the invitation and continue there. If "
            "you feel really bad right now or you are in danger, you can talk to someone "
            "straight away: {emergency}"
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
    "staff_no_devices_off_duty": {
        "de": "{counsellor} hat kein angemeldetes Gerät mehr (überall abgemeldet oder das Konto "
        "deaktiviert) und ist nicht mehr im Dienst; offene Gespräche gehen zurück in die "
        "Warteschlange. Nach dem Anmelden: „!duty on“.",
        "en": "{counsellor} has no logged-in device left (logged out everywhere, or the account "
        "deactivated) and is off duty now; open conversations go back to the queue. After "
        "logging in again: \"!duty on\".",
    },
    # The bot signed a counsellor off (no device left, an unverified session) and nobody
    # else on duty can take one of their youths: the leads are called.
    "staff_left_for_nobody": {
        "de": "{conversation} ist zurück in der Warteschlange, weil {counsellor} nicht mehr "
        "im Dienst ist, und niemand sonst im Dienst kann es übernehmen. {leads}: Bitte "
        "kümmert euch darum („!take {conversation}“) oder holt jemanden in den Dienst.",
        "en": "{conversation} is back in the queue because {counsellor} is off duty now, and "
        "nobody else on duty can take it. {leads}: please look after it "
        "(\"!take {conversation}\") or get someone on duty.",
    },
    # The chat opened, and nobody on duty can take a youth who waited from before.
    "staff_opened_nobody_on_duty": {
        "de": "Der Chat ist geöffnet, aber niemand im Dienst kann {conversation} übernehmen; "
        "es wartet seit vor der Öffnung. {leads}: Bitte kümmert euch darum "
        "(„!take {conversation}“) oder holt jemanden in den Dienst.",
        "en": "The chat is open, but nobody on duty can take {conversation}; it has waited "
        "since before the opening. {leads}: please look after it (\"!take {conversation}\") "
        "or get someone on duty.",
    },
    # The youth's counsellor left their room (handed back: the router never gives it to
    # them again) and nobody else on duty can take it.
    "staff_left_room_for_nobody": {
        "de": "{conversation} ist zurück in der Warteschlange, weil {counsellor} den Raum "
        "verlassen hat, und niemand sonst im Dienst kann es übernehmen. {counsellor}: "
        "„!take {conversation}“ holt es zurück; sonst {leads}: bitte kümmert euch darum.",
        "en": "{conversation} is back in the queue because {counsellor} left its room, and "
        "nobody else on duty can take it. {counsellor}: \"!take {conversation}\" takes it "
        "back; otherwise {leads}: please look after it.",
    },
    # [staff] unsigned_devices = "refuse": a session added on duty ends the duty.
    "staff_unsigned_off_duty": {
        "de": "{counsellor} hat eine nicht bestätigte Sitzung ({devices}) und ist deshalb nicht "
        "mehr im Dienst; offene Gespräche gehen zurück in die Warteschlange. War es nicht deine "
        "Sitzung: melde sie ab und ändere dein Passwort. Sonst bestätige sie (Schritte oben), "
        "dann „!duty on“.",
        "en": "{counsellor} has a session that is not verified ({devices}) and so is off duty "
        "now; open conversations go back to the queue. If it was not your session: log it out "
        "and change your password. Otherwise verify it (steps above), then \"!duty on\".",
    },
    "staff_reply_not_mailed": {
        "de": "{conversation} wird per Mail beraten: Dateien, Bilder und Sprachnachrichten "
        "gehen nicht per Mail hinaus. Deine letzte Nachricht hat die Person nicht erreicht; "
        "schreib es bitte in Worten.",
        "en": "{conversation} is counselled by mail: files, pictures and voice messages do not "
        "go out by mail. Your last message did not reach them; please say it in words.",
    },
    "staff_mail_not_recalled": {
        "de": "{conversation} wird per Mail beraten: Deine gelöschte Nachricht war schon als "
        "Mail hinausgegangen, und eine Mail lässt sich nicht zurückholen. Wenn nötig, schreib "
        "eine Korrektur als neue Nachricht.",
        "en": "{conversation} is counselled by mail: your deleted message had already gone out "
        "as mail, and a mail cannot be taken back. If need be, write a correction as a new "
        "message.",
    },
    "staff_room_replaced": {
        "de": "Der Bot war nicht mehr im bisherigen Teamraum (er wurde gelöscht oder der Bot "
        "entfernt). Dieser Raum ersetzt ihn: Neue Gespräche und Krisenhinweise kommen ab jetzt "
        "hier an. Bitte den alten Raum nicht mehr für Befehle nutzen.",
        "en": "The bot was no longer in the previous staff room (it was deleted, or the bot "
        "removed). This room replaces it: new conversations and crisis flags arrive here from "
        "now on. Please stop using the old room for commands.",
    },
    "staff_room_not_invited": {
        "de": "{users} konnte der Bot nicht in diesen Raum einladen (die App blockiert "
        "vielleicht Einladungen): Krisenhinweise und Rufe kommen dort nicht an. Bitte "
        "Einladungen erlauben; beim nächsten Start lädt der Bot erneut ein.",
        "en": "The bot could not invite {users} into this room (their app may block "
        "invitations): crisis flags and pages do not reach them. Please allow invitations; "
        "the bot invites again at its next start.",
    },
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


def _both(de: str, en: str) -> dict[Language, str]:
    return {"de": de, "en": en}


# What a waiting youth is told, and what happens around them.
CATALOGUE.update({
    "queue_position": _both(
        "Du bist jetzt an Platz {position} der Warteschlange. {eta}",
        "You are now number {position} in the queue. {eta}",
    ),
    "eta_minutes": _both(
        "Wahrscheinlich dauert es etwa {minutes} Minuten.",
        "It will probably take about {minutes} minutes.",
    ),
    # No estimate: nobody on duty, or all on duty at capacity 0 (a break): true of both.
    "eta_unknown": _both(
        "Gerade ist niemand frei; sobald jemand frei ist, geht es weiter.",
        "Nobody is free right now; as soon as someone is, it continues.",
    ),
    # After "nobody is on duty" in opening hours, as out of hours: where help is meanwhile.
    "nobody_on_duty": _both(
        "Wenn du nicht warten kannst, weil es dir gerade sehr schlecht geht oder du in "
        "Gefahr bist, kannst du sofort mit jemandem sprechen: {emergency}",
        "If you cannot wait because you feel really bad right now or you are in danger, you "
        "can talk to someone straight away: {emergency}",
    ),
    # The chat opened and nobody on duty can take a youth who waited from before it opened.
    "opened_nobody_on_duty": _both(
        "Der Chat ist jetzt geöffnet, aber gerade ist noch niemand aus dem Team da. Dein "
        "Platz in der Warteschlange bleibt; sobald jemand da ist, geht es hier weiter. Wenn du "
        "nicht warten kannst, weil es dir gerade sehr schlecht geht oder du in Gefahr bist, "
        "kannst du sofort mit jemandem sprechen: {emergency}",
        "The chat is open now, but nobody from the team is here yet. You keep your place in "
        "the queue; as soon as someone is here, it continues here. If you cannot wait because "
        "you feel really bad right now or you are in danger, you can talk to someone straight "
        "away: {emergency}",
    ),
    "counsellor_joined": _both(
        "{counsellor} ist jetzt für dich da und liest mit, was du geschrieben hast.",
        "{counsellor} is here for you now and reads what you wrote.",
    ),
    "counsellor_left": _both(
        "Deine Beraterin oder dein Berater musste das Gespräch abgeben. Du bist wieder "
        "ganz vorne in der Warteschlange; jemand anderes kommt, sobald jemand frei ist.",
        "Your counsellor had to hand over the conversation. You are back at the front of "
        "the queue; someone else will join as soon as one is free.",
    ),
    # Handed to a colleague, or to another office (`office.transferred_youth` follows):
    # no queue to tell of, whoever takes it is announced ("counsellor_joined").
    "counsellor_handed_over": _both(
        "Deine Beraterin oder dein Berater hat dein Gespräch an eine andere Person aus dem "
        "Team übergeben. Du musst nichts tun: Wenn sie da ist, sage ich dir Bescheid. "
        "Alles, was du geschrieben hast, bleibt beim Gespräch.",
        "Your counsellor has handed your conversation over to someone else from the team. "
        "You don't need to do anything: I will tell you when they are here. Everything you "
        "wrote stays with the conversation.",
    ),
    "closed_for_youth": _both(
        "Das Gespräch ist jetzt beendet. Danke, dass du geschrieben hast. Wenn du wieder "
        "reden möchtest, starte jederzeit einen neuen Chat mit mir.\nWenn du magst: Wie "
        "hilfreich war das Gespräch? "
        "Antworte mit einer Zahl von 1 (gar nicht) bis 5 (sehr). Das ist freiwillig und anonym.",
        "The conversation has ended. Thank you for writing. If you want to talk again, "
        "start a new chat with me any time.\n"
        "If you like: how helpful was it? Answer with a number from 1 (not at all) to 5 "
        "(very). This is optional and anonymous.",
    ),
    "feedback_thanks": _both(
        "Danke für deine Rückmeldung! Wenn du wieder reden möchtest, starte einfach einen "
        "neuen Chat mit mir. Pass auf dich auf.",
        "Thank you for your feedback! If you want to talk again, just start a new chat with "
        "me. Take care.",
    ),
    # Crisis words after the close opened the conversation again (the safety text follows).
    "reopened_for_youth": _both(
        "Ich bin noch da und habe dein Gespräch wieder geöffnet. Jemand aus dem Team kommt "
        "so schnell wie möglich zurück in diesen Chat.",
        "I'm still here and have opened your conversation again. Someone from the team will "
        "come back to this chat as soon as possible.",
    ),
    "closed_write_new": _both(
        "Dieses Gespräch ist beendet. Wenn du wieder reden möchtest, starte einfach einen "
        "neuen Chat mit mir.\nWenn es dir gerade sehr schlecht geht oder du in Gefahr bist, "
        "kannst du sofort mit jemandem sprechen: {emergency}",
        "This conversation has ended. If you want to talk again, just start a new chat "
        "with me.\nIf you feel really bad right now or you are in danger, you can talk to "
        "someone straight away: {emergency}",
    ),
    "out_of_hours": _both(
        "Gerade ist der Chat nicht besetzt. Wieder da: {next_opening}. Deine Nachrichten "
        "bleiben gespeichert und du bleibst in der Warteschlange.\nWenn es dir gerade sehr "
        "schlecht geht: {emergency}",
        "The chat is not staffed right now. Back: {next_opening}. Your messages are kept "
        "and you stay in the queue.\nIf you are in a bad way right now: {emergency}",
    ),
    # Only where the office counsels by mail ([mail] enabled): elsewhere "mail" is refused.
    "out_of_hours_mail": _both(
        "Gerade ist der Chat nicht besetzt. Wieder da: {next_opening}. Deine Nachrichten "
        "bleiben gespeichert und du bleibst in der Warteschlange. Du kannst uns auch per "
        "Mail schreiben (schreib „mail“).\nWenn es dir gerade sehr schlecht geht: "
        "{emergency}",
        "The chat is not staffed right now. Back: {next_opening}. Your messages are kept "
        "and you stay in the queue. You can also write to us by mail (write \"mail\").\nIf "
        "you are in a bad way right now: {emergency}",
    ),
    # The same without a time: hours that never open (a week without any) have none to tell.
    "out_of_hours_no_time": _both(
        "Gerade ist der Chat nicht besetzt. Deine Nachrichten bleiben gespeichert und du "
        "bleibst in der Warteschlange.\nWenn es dir gerade sehr schlecht geht: {emergency}",
        "The chat is not staffed right now. Your messages are kept and you stay in the "
        "queue.\nIf you are in a bad way right now: {emergency}",
    ),
    "out_of_hours_no_time_mail": _both(
        "Gerade ist der Chat nicht besetzt. Deine Nachrichten bleiben gespeichert und du "
        "bleibst in der Warteschlange. Du kannst uns auch per Mail schreiben (schreib "
        "„mail“).\nWenn es dir gerade sehr schlecht geht: {emergency}",
        "The chat is not staffed right now. Your messages are kept and you stay in the "
        "queue. You can also write to us by mail (write \"mail\").\nIf you are in a bad "
        "way right now: {emergency}",
    ),
    # Also read by a youth whose app refused the invitation (`invite_blocked`).
    "moved_room_go_on": _both(
        "(Weiter geht es im neuen, verschlüsselten Raum: Bitte nimm die Einladung an. Dort "
        "liest auch die Person, die dich berät. Keine Einladung bekommen? Dann blockiert "
        "deine App Einladungen: Erlaube sie und schreib hier noch einmal.)",
        "(We go on in the new, encrypted room: please accept the invitation. That is where "
        "the person counselling you reads. No invitation? Then your app blocks invitations: "
        "allow them and write here once more.)",
    ),
    "invite_blocked": _both(
        "Deine App blockiert Einladungen, deshalb konnte ich dich nicht in den "
        "verschlüsselten Chat einladen. Was du hier schreibst, gebe ich an das Team weiter, "
        "aber die Antworten des Teams kommen hier nicht an. Bitte erlaube Einladungen in den "
        "Einstellungen deiner App und schreib dann hier noch einmal: Dann lade ich dich neu "
        "ein. Wenn es dir gerade sehr schlecht geht oder du in Gefahr bist, kannst du sofort "
        "mit jemandem sprechen: {emergency}",
        "Your app blocks invitations, so I could not invite you into the encrypted chat. What "
        "you write here I pass on to the team, but the team's answers do not arrive here. "
        "Please allow invitations in your app's settings and then write here once more: I "
        "will invite you again. If you feel really bad right now or you are in danger, you "
        "can talk to someone straight away: {emergency}",
    ),
    "moved_room_waiting": _both(
        "Für dich liegt eine Nachricht im neuen Raum. Hier steht sie nicht, weil dieser Raum "
        "nicht verschlüsselt ist.",
        "There is a message for you in the new room. It is not here, because this room is not "
        "encrypted.",
    ),
    "moved_room_passed_on": _both(
        "Für {counsellor}, im ersten Chat geschrieben:\n› {line}",
        "For {counsellor}, written in the first chat:\n› {line}",
    ),
    "second_chat_reminder": _both(
        "Du hast schon einen Chat mit uns, und er ist noch offen: {link}\nDeine Nachricht habe "
        "ich dorthin weitergegeben. Dort antwortet dir jemand aus dem Team, bitte schreib dort "
        "weiter (wenn der Chat in deiner App leer aussieht: Neue Nachrichten kannst du dort "
        "lesen). Wenn es dir gerade sehr schlecht geht oder du in Gefahr bist, kannst du "
        "sofort mit jemandem sprechen: {emergency}",
        "You already have a chat with us, and it is still open: {link}\nI have passed your "
        "message on to it. Someone from the team will answer you there, please continue "
        "there (if the chat looks empty in your app: you can read new messages there). If "
        "you feel really bad right now or you are in danger, you can talk to someone "
        "straight away: {emergency}",
    ),
    "second_chat_passed_on": _both(
        "Für {counsellor}, in einem zweiten Chat geschrieben:\n› {line}",
        "For {counsellor}, written in a second chat:\n› {line}",
    ),
    "moving_declined": _both(
        "Du hast die Einladung in den neuen Raum abgelehnt. Hier können wir nicht beraten, "
        "weil hier jemand anderes dazukommen könnte. Schreib einfach noch einmal, dann lade "
        "ich dich neu ein. Wenn es dir gerade sehr schlecht geht oder du in Gefahr bist, kannst "
        "du sofort mit jemandem sprechen: {emergency}",
        "You declined the invitation to the new room. We cannot counsel here, because someone "
        "else could join. Just write again and I will invite you once more. If you feel really "
        "bad right now or you are in danger, you can talk to someone straight away: "
        "{emergency}",
    ),
    # The homeserver refuses the bot the room to move a youth to (403), after the youth was
    # told it was sent ("unencrypted_room", "moving_room").
    "move_refused": _both(
        "Leider kann ich dir gerade doch keinen verschlüsselten Chat schicken: Der Server "
        "lässt es im Moment nicht zu. Das Team weiß Bescheid, und ich lade dich ein, sobald "
        "es geht. Bis dahin kann dir hier niemand aus dem Team antworten. Wenn es dir gerade "
        "sehr schlecht geht oder du in Gefahr bist, kannst du sofort mit jemandem sprechen: "
        "{emergency}",
        "Sorry, I cannot send you an encrypted chat after all: the server does not allow it "
        "at the moment. The team knows, and I will invite you as soon as I can. Until then "
        "nobody from the team can answer you here. If you feel really bad right now or you "
        "are in danger, you can talk to someone straight away: {emergency}",
    ),
    # The youth upgraded their chat's room (`room_upgrades.py`): nobody of the team can
    # follow them into the room their app made, so the bot invites them into one of its own.
    "room_upgraded": _both(
        "Du hast deinen Chat aktualisiert. In den neuen Raum, den deine App dafür gemacht "
        "hat, können wir dir nicht folgen. Darum geht es in einem neuen, verschlüsselten "
        "Raum weiter: Ich habe dich eingeladen – bitte nimm die Einladung an. Wer dich "
        "berät, kommt mit, und alles, was du geschrieben hast, bleibt beim Gespräch. "
        "Wenn es dir gerade sehr schlecht geht oder du in Gefahr bist, kannst du sofort mit "
        "jemandem sprechen: {emergency}",
        "You upgraded your chat. We cannot follow you into the new room your app made for "
        "it. So we go on in a new, encrypted room: I have invited you – please accept the "
        "invitation. Whoever counsels you comes along, and everything you wrote stays with the "
        "conversation. If you feel really bad right now or you are in danger, you can talk "
        "to someone straight away: {emergency}",
    ),
    "room_upgraded_unmoved": _both(
        "Du hast deinen Chat aktualisiert. In den neuen Raum, den deine App dafür gemacht "
        "hat, können wir dir nicht folgen, und gerade kann ich dir keinen anderen Chat "
        "schicken. Das Team weiß Bescheid. Wenn es dir gerade sehr schlecht geht oder du "
        "in Gefahr bist, kannst du sofort mit jemandem sprechen: {emergency}",
        "You upgraded your chat. We cannot follow you into the new room your app made for "
        "it, and right now I cannot send you another chat. The team knows. If you feel "
        "really bad right now or you are in danger, you can talk to someone straight away: "
        "{emergency}",
    ),
    # "löschen" in a chat whose move is refused for good: no conversation to delete yet; the
    # chat goes when the youth leaves it (`MoveLeftovers.given_up`), with admin access.
    "delete_unmoved": _both(
        "Hier gibt es noch kein Gespräch, das ich löschen könnte: Niemand aus dem Team hat "
        "gelesen, was du hier geschrieben hast. Wenn du diesen Chat verlässt, lösche ich ihn "
        "mit allem, was du hier geschrieben hast. Wenn es dir gerade sehr schlecht geht: "
        "{emergency}",
        "There is no conversation here yet that I could delete: nobody from the team has "
        "read what you wrote here. If you leave this chat, I delete it with everything you "
        "wrote here. If you feel really bad right now: {emergency}",
    ),
    # The same without the admin access a deletion needs: the bot can only leave.
    "delete_unmoved_kept": _both(
        "Hier gibt es noch kein Gespräch, das ich löschen könnte: Niemand aus dem Team hat "
        "gelesen, was du hier geschrieben hast. Diesen Chat kann ich nicht vom Server "
        "löschen; wenn du ihn verlässt, gehe ich auch. Wenn es dir gerade sehr schlecht "
        "geht: {emergency}",
        "There is no conversation here yet that I could delete: nobody from the team has "
        "read what you wrote here. I cannot delete this chat from the server; if you leave "
        "it, I leave too. If you feel really bad right now: {emergency}",
    ),
    # Crisis words in a chat the bot has not yet moved the youth out of (its new room is
    # refused): nobody can answer there, so no promise that someone answers "here".
    "crisis_unmoved": _both(
        "Danke, dass du das schreibst. Das Team weiß jetzt, dass du Hilfe brauchst. Ich "
        "lade dich in einen verschlüsselten Chat ein, sobald das geht; dort antwortet dir "
        "jemand. Wenn du sofort mit jemandem reden willst: {emergency}",
        "Thank you for writing this. The team now knows that you need help. I will invite you "
        "to an encrypted chat as soon as I can; someone will answer you there. If you want to "
        "talk to someone right now: {emergency}",
    ),
    "safety_info": _both(
        "Danke, dass du das erzählst. Du bist damit nicht allein. Jemand aus dem Team "
        "kümmert sich so schnell wie möglich um dich.\nWenn du sofort mit jemandem reden "
        "willst: {emergency}",
        "Thank you for telling us. You are not alone with this. Someone from the team will "
        "be with you as soon as possible.\nIf you want to talk to someone right now: "
        "{emergency}",
    ),
    "safety_offer": _both(
        "Nur zur Sicherheit: Wenn es dir gerade sehr schlecht geht oder du in Gefahr bist, "
        "kannst du sofort mit jemandem sprechen: {emergency}\nSchreib hier gern weiter. "
        "Jemand aus dem Team antwortet dir hier, so schnell es geht.",
        "Just to be safe: if you feel really bad right now or you are in danger, you can talk "
        "to someone straight away: {emergency}\nYou can keep writing here. Someone from the "
        "team will answer you here as soon as they can.",
    ),
    "language_changed": _both(
        "Okay, ab jetzt schreibe ich dir auf Deutsch.",
        "Okay, from now on I will write to you in English.",
    ),
    "language_changed_safety": _both(
        "Okay, ab jetzt schreibe ich dir auf Deutsch. Wenn es dir gerade sehr schlecht geht "
        "oder du in Gefahr bist, kannst du sofort mit jemandem sprechen: {emergency}",
        "Okay, from now on I will write to you in English. If you feel really bad right now "
        "or you are in danger, you can talk to someone straight away: {emergency}",
    ),
    # "Hilfe!" may be a cry for help: what the youth can do right now comes first.
    "youth_help": _both(
        "Wenn es dir gerade sehr schlecht geht oder du in Gefahr bist, kannst du sofort mit "
        "jemandem sprechen: {emergency}\n"
        "Hier kannst du einfach schreiben, jemand aus dem Team liest es. Außerdem verstehe "
        "ich diese Wörter (allein als Nachricht): {words}.",
        "If you feel really bad right now or you are in danger, you can talk to someone "
        "straight away: {emergency}\n"
        "Here you can simply write; someone from the team reads it. I also understand these "
        "words (on their own): {words}.",
    ),
    "message_set_aside": _both(
        "Deine letzte Nachricht konnte ich wegen eines Fehlers bei mir nicht weitergeben. Das "
        "Team weiß Bescheid. Bitte schreib sie noch einmal, gern mit etwas anderen Worten.",
        "Because of an error on my side I could not pass on your last message. The team "
        "knows. Please write it again, perhaps in other words.",
    ),
    "staff_message_set_aside": _both(
        "⚠️ Eine Nachricht in {conversation} hat den Bot zweimal scheitern lassen und wurde "
        "ungelesen beiseitegelegt (ein Fehler im Bot, sein Ort steht im Log). Sie könnte "
        "wichtig sein: Bitte schaut nach der Person. Raum: {link}",
        "⚠️ A message in {conversation} made the bot fail twice and was set aside unread (a "
        "bug in the bot; where is in its log). It may matter: please look after the person. "
        "Room: {link}",
    ),
    "staff_reminders_failed": _both(
        "⚠️ Die Terminerinnerungen schlagen fehl (ein Fehler im Bot, seine Art steht im Log). "
        "Bitte schaut mit `!appointments` nach anstehenden Terminen und erinnert die "
        "Personen selbst. Krisenmeldungen und alles andere laufen weiter.",
        "⚠️ Appointment reminders are failing (a bug in the bot, its kind is in the log). "
        "Please check upcoming appointments with `!appointments` and remind the people "
        "yourselves. Crisis alerts and everything else go on.",
    ),
    "staff_effect_set_aside": _both(
        "⚠️ Der Bot ist zweimal an einem Schritt gescheitert und hat ihn verworfen ({what}, "
        "Gespräch {conversation}; ein Fehler im Bot, sein Ort steht im Log). Bitte schaut "
        "nach, ob dort etwas fehlt – vielleicht eine Nachricht an die Person.",
        "⚠️ The bot failed twice at one step and dropped it ({what}, conversation "
        "{conversation}; a bug in the bot, where is in its log). Please check whether "
        "something is missing there – perhaps a message to the person.",
    ),
    "staff_effect_refused": _both(
        "⚠️ Der Homeserver hat einen Schritt des Bots mehrmals endgültig abgelehnt, der Bot "
        "hat ihn aufgegeben ({what}, Gespräch {conversation}; der Grund steht im Log). Bitte "
        "schaut nach, ob dort etwas fehlt – vielleicht eine Nachricht an die Person.",
        "⚠️ The homeserver refused one of the bot's steps for good, several times, and the bot "
        "gave it up ({what}, conversation {conversation}; the reason is in its log). Please "
        "check whether something is missing there – perhaps a message to the person.",
    ),
    "staff_stranger_stays": _both(
        "⚠️ In {conversation} ist noch jemand außer der Person, und der Bot kann ihn nicht "
        "entfernen (die Person hat ihm volle Rechte gegeben): Er liest alles mit, was dort "
        "geschrieben wird, auch die Zusammenfassung für neu Hinzukommende.",
        "⚠️ Someone besides the youth is in {conversation}, and the bot cannot remove them "
        "(the youth gave them full rights): they read everything written there, the summary "
        "for staff who join later too.",
    ),
    "staff_event_set_aside": _both(
        "⚠️ Ein Befehl oder eine Nachricht außerhalb eines Gesprächs hat den Bot zweimal "
        "scheitern lassen und wurde übersprungen (ein Fehler im Bot, sein Ort steht im Log).",
        "⚠️ A command or a message outside a conversation made the bot fail twice and was "
        "skipped (a bug in the bot; where is in its log).",
    ),
    "mail.received": _both(
        "Danke für deine Mail, sie ist bei uns angekommen. Jemand aus dem Beratungsteam liest "
        "sie und antwortet dir {within}, hier in diesem Mailverlauf. Wenn du noch etwas "
        "ergänzen willst, antworte einfach auf diese Mail.\n\nWenn es dir gerade sehr "
        "schlecht geht oder du in Gefahr bist, warte nicht auf unsere Antwort: {emergency}"
        "\n\n(Diese Mail wurde automatisch verschickt.)",
        "Thank you for your mail, it has reached us. Someone from the counselling team will "
        "read it and answer you {within}, here in this mail thread. If you want to add "
        "something, simply reply to this mail.\n\nIf you feel really bad right now or you "
        "are in danger, don't wait for our answer: {emergency}\n\n(This mail was sent "
        "automatically.)",
    ),
    "mail.within_one": _both("bis zum Ende des nächsten Werktags",
                             "by the end of the next working day"),
    "mail.within_days": _both("innerhalb von {days} Werktagen", "within {days} working days"),
    "mail.correction": _both(
        "Korrektur meiner letzten Nachricht – so sollte sie lauten:\n\n{words}",
        "A correction of my last message – it should read:\n\n{words}",
    ),
    "mail.address_unusable": _both(
        "Mit dieser Mailadresse kann ich leider nichts verschicken. Schreib sie bitte noch "
        "einmal, genau so wie in deinem Mailprogramm (z. B. name@beispiel.de), oder schreib "
        "einfach hier weiter.",
        "I can't send anything to this mail address. Please write it again exactly as in "
        "your mail app (for example name@example.org), or simply keep writing here.",
    ),
    "mail.code_sent": _both(
        "Ich habe dir eine Mail mit einem Code an {address} geschickt. Schreib den Code hier "
        "in den Chat, dann geht es per Mail weiter. So weiß ich, dass die Adresse wirklich "
        "deine ist und niemand anderes deine Antworten bekommt. Keine Mail da (schau auch "
        "im Spam)? Dann schreib deine Adresse noch einmal, oder schreib einfach hier weiter.",
        "I have sent a mail with a code to {address}. Write the code here in the chat, and "
        "we continue by mail. That way I know the address really is yours and nobody else "
        "gets your replies. No mail (check your spam folder too)? Then write your address "
        "again, or simply keep writing here.",
    ),
    "mail.code_wrong": _both(
        "Der Code stimmt nicht. Schau noch einmal in die Mail und schreib ihn genau ab.",
        "That code is not right. Please look at the mail again and copy it exactly.",
    ),
    "mail.code_given_up": _both(
        "Der Code war mehrmals falsch, deshalb gilt er nicht mehr. Wenn du per Mail "
        "weitermachen möchtest, schreib „mail“ und dann deine Adresse noch einmal. Wir "
        "bleiben so lange hier im Chat.",
        "The code was wrong several times, so it no longer counts. If you want to continue "
        "by mail, write \"mail\" and then your address again. Meanwhile we stay here in the "
        "chat.",
    ),
    "mail.code_expired": _both(
        "Der Code ist nach einer Stunde abgelaufen. Wenn du per Mail weitermachen möchtest, "
        "schreib „mail“ und dann deine Adresse noch einmal. Wir bleiben so lange hier im "
        "Chat.",
        "The code expired after an hour. If you want to continue by mail, write \"mail\" "
        "and then your address again. Meanwhile we stay here in the chat.",
    ),
    "mail.code_too_many": _both(
        "Ich habe dir in der letzten Stunde schon mehrere Codes geschickt. Schau in deine "
        "Mails (auch im Spam) und schreib den neuesten Code hier in den Chat, oder versuch "
        "es in einer Stunde noch einmal. Wir bleiben so lange hier im Chat.",
        "I have already sent you several codes in the last hour. Look in your mail (check "
        "your spam folder too) and write the newest code here in the chat, or try again in "
        "an hour. Meanwhile we stay here in the chat.",
    ),
    "mail.code_no_more": _both(
        "Ich habe dir in diesem Gespräch schon viele Codes geschickt und schicke keine "
        "weiteren. Per Mail geht es hier deshalb nicht weiter, aber wir bleiben im Chat: "
        "Schreib einfach hier weiter.",
        "I have already sent you many codes in this conversation and will not send any "
        "more. So it cannot continue by mail here, but we stay in the chat: simply keep "
        "writing here.",
    ),
    "mail.code_undeliverable": _both(
        "Die Mail mit dem Code kam nicht an: Der Mailserver hat die Adresse abgelehnt. "
        "Schau bitte, ob sie richtig geschrieben ist, und schreib sie noch einmal, oder "
        "schreib einfach hier weiter.",
        "The mail with the code did not arrive: the mail server refused the address. "
        "Please check it is spelled right and write it again, or simply keep writing here.",
    ),
    "mail.code_subject": _both("Dein Code für die Online-Beratung",
                               "Your code for online counselling"),
    "mail.code_mail": _both(
        "Hallo,\n\njemand möchte die Online-Beratung per Mail an diese Adresse fortsetzen. "
        "Wenn du das warst, schreib diesen Code in den Chat mit der Beratung (nicht als "
        "Antwort auf diese Mail):\n\n{code}\n\nDer Code gilt eine Stunde. Wenn du das "
        "nicht warst, musst du nichts tun: Ohne den Code schicken wir nichts an diese "
        "Adresse.",
        "Hello,\n\nsomeone wants to continue online counselling by mail at this address. "
        "If that was you, write this code in the chat with the counselling service (not as "
        "a reply to this mail):\n\n{code}\n\nThe code is valid for one hour. If that was "
        "not you, you need not do anything: without the code we send nothing to this "
        "address.",
    ),
    "mail.cut": _both(
        "Deine Mail war sehr lang. Anfang und Ende sind bei uns angekommen, aber ein Teil aus "
        "der Mitte konnte nicht an das Beratungsteam weitergegeben werden. Wenn dir dieser "
        "Teil wichtig ist, schick ihn bitte in einer zweiten Mail, einfach als Antwort auf "
        "diese.\n\n(Diese Mail wurde automatisch verschickt.)",
        "Your mail was very long. Its beginning and end have reached us, but a part from the "
        "middle could not be passed on to the counselling team. If that part matters to you, "
        "please send it in a second mail, simply as a reply to this one.\n\n(This mail was "
        "sent automatically.)",
    ),
    "mail.undeliverable": _both(
        "Eine Mail an dich konnte nicht zugestellt werden: Der Mailserver hat deine Adresse "
        "abgelehnt. Schreib „mail“ und danach deine richtige Adresse, oder schreib einfach "
        "hier im Chat weiter.",
        "A mail to you could not be delivered: the mail server refused your address. Write "
        "\"mail\" and then your correct address, or simply keep writing here in the chat.",
    ),
    "mail.refused": _both(
        "Eine Mail in diesem Gespräch wurde nicht verschickt: Der Mailserver hat sie "
        "abgelehnt (etwa wegen eines Links darin oder ihrer Größe). Sie muss anders "
        "geschrieben noch einmal geschickt werden.",
        "A mail in this conversation was not sent: the mail server refused it (for a link "
        "in it, say, or its size). It has to be written differently and sent again.",
    ),
    "mail.off": _both(
        "Mail-Beratung gibt es hier gerade nicht. Wir können gern weiter schreiben.",
        "Counselling by mail is not available here right now. We can keep writing.",
    ),
    "mail.ask_address": _both(
        "Du kannst auch per Mail weitermachen – mit derselben Person. Wichtig: Mails sind "
        "NICHT Ende-zu-Ende verschlüsselt und deine Adresse kann verraten, wer du bist. "
        "Wenn du das trotzdem möchtest, schreib mir hier nur deine Mailadresse. Sonst "
        "schreib einfach weiter.",
        "You can also continue by mail – with the same person. Important: mails are NOT "
        "end-to-end encrypted, and your address may reveal who you are. If you want it "
        "anyway, send me just your mail address here. Otherwise simply keep writing.",
    ),
    "channel.mail": _both(
        "Ab jetzt geht es per Mail weiter: Die Antworten kommen an deine Adresse. Wenn du "
        "hier wieder schreibst, sind wir zurück im Chat.",
        "From now on it continues by mail: replies go to your address. If you write here "
        "again, we are back in the chat.",
    ),
    "channel.chat": _both(
        "Wir sind wieder im Chat.", "We are back in the chat.",
    ),
    "mail.private_post": _both(
        "Eine Mail in {conversation} ({link}), nur für dich: In den Raum kam jemand mit dem "
        "Fall-Code, vielleicht nicht die Person, die diese Mail geschrieben hat. Zitiere "
        "nichts daraus im Raum.",
        "A mail in {conversation} ({link}), for you alone: someone came into the room with "
        "the case code, perhaps not the person who wrote this mail. Quote nothing of it in "
        "the room.",
    ),
    "mail.private_transcript": _both(
        "Was in {conversation} ({link}) bisher geschrieben wurde ({count}), nur für dich: In "
        "den Raum kam jemand mit dem Fall-Code, vielleicht nicht die Person, die die Mails "
        "darunter geschrieben hat.",
        "What was written in {conversation} ({link}) so far ({count}), for you alone: "
        "someone came into the room with the case code, perhaps not the person who wrote "
        "the mails among it.",
    ),
    "mail.private_transcript_staff": _both(
        "{conversation}: Was bisher geschrieben wurde, bekommst du nur im direkten Raum mit "
        "dem Bot (nimm seine Einladung an, falls du es noch nicht getan hast): In den Raum "
        "kam jemand mit dem Fall-Code, vielleicht nicht die Person, die die Mails schrieb.",
        "{conversation}: what was written so far comes to you only in your direct room "
        "with the bot (accept its invitation if you have not yet): someone came into the "
        "room with the case code, perhaps not the person who wrote the mails.",
    ),
    "mail.came_in_chat": _both(
        "Eben kam eine Mail zu unserem Gespräch, von der Mailadresse, an die wir dir vorher "
        "geschrieben haben. Wir antworten dir weiter nur hier im Chat und schicken nichts "
        "an diese Adresse. Warst du das und möchtest du lieber per Mail weitermachen? Dann "
        "schreib hier „mail“. Warst du es nicht, liest vielleicht jemand anderes diese "
        "Mails: Sag es uns hier.",
        "A mail just came in our conversation, from the mail address we wrote to before. We "
        "keep answering you only here in the chat and send nothing to that address. Was it "
        "you, and would you rather continue by mail? Then write \"mail\" here. If it was not "
        "you, someone else may be reading those mails: tell us here.",
    ),
    "mail.came_in_chat_staff": _both(
        "{conversation}: Im Mail-Verlauf kam eine Mail, während die Person im Chat ist. Sie "
        "steht im Raum. An die Adresse geht nichts, bis die Person im Chat wieder „mail“ "
        "wählt; sie wurde dort gefragt. Die Mail kann von jemand anderem sein, der das alte "
        "Postfach liest.",
        "{conversation}: a mail came in its mail thread while the youth is in the chat. It "
        "is shown in the room. Nothing goes to that address until the youth chooses "
        "\"mail\" in the chat again; they were asked there. The mail may be from someone "
        "else who reads the old mailbox.",
    ),
    "mail.came_in_chat_private_staff": _both(
        "{conversation}: Im Mail-Verlauf kam eine Mail, während im Chat jemand ist, der mit "
        "dem Fall-Code kam. Du liest sie nur im direkten Raum mit dem Bot; im Raum steht "
        "nichts davon: Wer im Chat ist, liest vielleicht das Postfach der Person, die "
        "geschrieben hat. An die Adresse geht nichts, bis im Chat wieder „mail“ gewählt "
        "wird.",
        "{conversation}: a mail came in its mail thread while someone who came in with the "
        "case code is in the chat. You read it only in your direct room with the bot; "
        "nothing of it is said in the room: whoever is in the chat may read the mailbox of "
        "the person who wrote it. Nothing goes to that address until \"mail\" is chosen in "
        "the chat again.",
    ),
    "mail.came_private_staff": _both(
        "{conversation}: Eine neue Mail im Mail-Verlauf. Du liest sie nur im direkten Raum "
        "mit dem Bot (nimm seine Einladung an, falls du es noch nicht getan hast); im Raum "
        "steht nichts davon, seit jemand mit dem Fall-Code kam.",
        "{conversation}: a new mail in its mail thread. You read it only in your direct "
        "room with the bot (accept its invitation if you have not yet); nothing of it is "
        "said in the room since someone came in with the case code.",
    ),
    "topic.chat": _both("Kanal: Chat", "Channel: chat"),
    "topic.mail": _both("Kanal: Mail", "Channel: mail"),
    "chat.invitation_mail": _both(
        "Du kannst auch live mit uns chatten – anonym und Ende-zu-Ende verschlüsselt:\n\n"
        "1. Installiere eine Matrix-App, zum Beispiel Element oder FluffyChat.\n"
        "2. Lege dort ein Konto an: Server {homeserver}, ein beliebiger Spitzname, ein "
        "Passwort. Wenn nach einem Code gefragt wird: {token}\n"
        "3. Schreib dem Beratungs-Account {bot} diesen Fall-Code: {code}\n\n"
        "Dann bist du wieder bei derselben Person. Der Code gilt einmal und 14 Tage.",
        "You can also chat with us live – anonymously and end-to-end encrypted:\n\n"
        "1. Install a Matrix app, for example Element or FluffyChat.\n"
        "2. Create an account there: server {homeserver}, any nickname, a password. If it "
        "asks for a code: {token}\n"
        "3. Send the counselling account {bot} this case code: {code}\n\n"
        "Then you are back with the same person. The code works once, for 14 days.",
    ),
    "chat.code_used": _both(
        "Hallo,\n\nder Fall-Code aus unserer Einladung in den Chat wurde eben benutzt: Damit "
        "ist jemand in den Chat zu deiner Beratung gekommen. Warst du das, ist alles gut und "
        "du musst nichts tun.\n\nWarst du das nicht, antworte auf diese Mail nur mit: "
        "nicht ich\nSchreib bitte nichts weiter dazu: Deine Mails zeigen wir im Chat, und "
        "dort liest jetzt auch die Person mit, die den Code benutzt hat. Deine Beraterin "
        "oder dein Berater weiß dann Bescheid.\n\n(Diese Mail wurde automatisch "
        "verschickt.)",
        "Hello,\n\nthe case code from our invitation to the chat has just been used: "
        "someone came into the chat of your counselling with it. If that was you, all is "
        "well and you need not do anything.\n\nIf it was not you, reply to this mail with "
        "just: not me\nPlease write nothing else: we show your mails in the chat, and the "
        "person who used the code now reads there too. Your counsellor will then know.\n\n"
        "(This mail was sent automatically.)",
    ),
    "chat.code_used_staff": _both(
        "{conversation}: Der Fall-Code wurde benutzt; wer ihn geschickt hat, ist in den Raum "
        "eingeladen und liest dort ab jetzt alles mit, was im Raum steht. Die Mails des "
        "Gesprächs bekommst nur du, im direkten Raum mit dem Bot. Die Person wurde per Mail "
        "darüber informiert. Antwortet sie „nicht ich“, hat vielleicht jemand anderes den "
        "Code; aber wer das Postfach mitliest, kann das auch schreiben: frag erst im Chat "
        "nach, was nur die Person wissen kann. „!chat end“ im Raum entfernt, wer mit dem "
        "Code kam.",
        "{conversation}: the case code was used; whoever sent it is invited into the room "
        "and reads everything in it from now on. The conversation's mails come to you "
        "alone, in your direct room with the bot. The youth was told by mail. If they "
        "answer \"not me\", someone else may have the code; but whoever reads the mailbox "
        "can write that too: first ask in the chat what only the youth can know. "
        "\"!chat end\" in the room removes whoever came in with it.",
    ),
    "mail.other_address_staff": _both(
        "{conversation}: Diese Mail kam von einer Adresse, an die die Antworten nicht mehr "
        "gehen (im Chat wurde eine andere bestätigt). Deine Antwort geht an die bestätigte "
        "Adresse, nicht an die Person, die diese Mail schrieb. Es können zwei Personen "
        "sein: Kläre das, bevor du antwortest.",
        "{conversation}: this mail came from an address the replies no longer go to "
        "(another one was proven in the chat). Your reply goes to the proven address, not "
        "to whoever wrote this mail. They may be two people: find out before you answer.",
    ),
    "case_code_ok": _both(
        "Danke! Ich habe dich in deinen Beratungsraum eingeladen – nimm die Einladung an, "
        "dort geht es weiter.",
        "Thank you! I have invited you to your counselling room – accept the invitation, it "
        "continues there.",
    ),
    "video.link": _both(
        "Hier ist der Link zum Videoanruf: {url}\nDer Link ist nur für dich; du musst deinen "
        "Namen nicht angeben.",
        "Here is the link to the video call: {url}\nThe link is just for you; you don't need "
        "to give your name.",
    ),
    "video.link_void": _both(
        "Der Videoanruf von vorhin ist beendet: Sein Link führt nicht mehr zu deiner "
        "Beratung, öffne ihn bitte nicht mehr. Für ein neues Videogespräch bekommst du einen "
        "neuen Link.",
        "The video call from before has ended: its link no longer leads to your "
        "counselling, so please don't open it again. For a new video call you will get a "
        "new link.",
    ),
    "video.off": _both(
        "Video ist hier gerade nicht eingerichtet. Wir können gern weiter schreiben.",
        "Video is not set up here right now. We can keep writing.",
    ),
    "video.open": _both(
        "Der Videoanruf ist schon offen: Nimm den Link aus meiner Nachricht dazu weiter oben.",
        "The video call is already open: use the link in my message about it further up.",
    ),
    "video.ask_counsellor": _both(
        "Wenn du lieber per Video sprechen möchtest, sag es deiner Beraterin oder deinem "
        "Berater – sie können den Anruf starten.",
        "If you would rather talk by video, tell your counsellor – they can start the call.",
    ),
    "video.after_counsellor": _both(
        "Ein Videoanruf geht, sobald jemand aus dem Team bei dir ist.",
        "A video call is possible as soon as someone from the team is with you.",
    ),
    "attachment_note": _both(
        "Bilder, Dateien und besondere Nachrichten kann ich nicht weitergeben – deine "
        "Beraterin oder dein Berater sieht sie nur, wenn sie oder er schon im Chat ist. "
        "Schreib am besten mit Worten, worum es geht.",
        "I cannot pass on pictures, files or special messages – your counsellor only sees "
        "them once they are in the chat. Best tell in words what it is about.",
    ),
    "call_not_taken": _both(
        "Anrufe kann ich hier nicht annehmen. Schreib mir einfach, was los ist – deine "
        "Beraterin oder dein Berater antwortet dir hier im Chat.",
        "I cannot take calls here. Just write what is going on – your counsellor answers "
        "you here in the chat.",
    ),
    "verification_not_here": _both(
        "Eine Verifizierung kann ich hier nicht annehmen. Deine Nachrichten an die Beratung "
        "sind trotzdem verschlüsselt – schreib einfach weiter.",
        "I cannot accept a verification here. Your messages to the counselling service are "
        "encrypted all the same – just keep writing.",
    ),
    "not_available_yet": _both(
        "Das geht leider noch nicht. Schreib einfach weiter, deine Beraterin oder dein "
        "Berater hilft dir.",
        "That is not possible yet, sorry. Just keep writing; your counsellor will help you.",
    ),
})

# What staff are told: in the office's language, short, never message content.
CATALOGUE.update({
    "staff_crisis_alert": _both(
        "⚠️ KRISENHINWEIS {conversation}: {category}, Stufe {severity}, offen seit "
        "{waiting} min, {assigned}. Raum: {link} — „!confirm {conversation}“ oder "
        "„!dismiss {conversation}“. Grund: {rules}",
        "⚠️ CRISIS FLAG {conversation}: {category}, severity {severity}, open for "
        "{waiting} min, {assigned}. Room: {link} — \"!confirm {conversation}\" or "
        "\"!dismiss {conversation}\". Reason: {rules}",
    ),
    # In the main staff room, which every office reads, for one office's crisis: nothing of
    # it but which conversation and whose (the details stay in that office's own room).
    "staff_crisis_elsewhere": _both(
        "⚠️ DRINGEND {conversation}: Krisenhinweis der Stelle {office}. Ihr werdet hier "
        "gerufen, weil in deren Teamraum niemand erreichbar ist, der jetzt handeln kann; "
        "die Einzelheiten stehen nur dort.",
        "⚠️ URGENT {conversation}: crisis flag of office {office}. You are called here "
        "because nobody who can act now is reachable in its staff room; the details are "
        "only there.",
    ),
    "staff_move_refused": _both(
        "⚠️ Eine Person wartet in einem unverschlüsselten Chat, und der Homeserver verweigert "
        "dem Bot den verschlüsselten Raum, in den er sie holen will (403: das Konto des Bots "
        "darf keine Räume anlegen). Bis dahin liest niemand, was sie schreibt (Krisenworte "
        "meldet der Bot trotzdem). Bitte den Admin bitten, dem Bot das Anlegen von Räumen zu "
        "erlauben; der Bot fragt jede Minute erneut. Die Person weiß es und hat die "
        "Notrufnummern bekommen.",
        "⚠️ A youth is waiting in a chat without encryption, and the homeserver refuses the "
        "bot the encrypted room to move them to (403: the bot's account may not create "
        "rooms). Until then nobody reads what they write (the bot still reports crisis "
        "words). Please ask the admin to let the bot create rooms; the bot asks again every "
        "minute. The youth was told and given the emergency numbers.",
    ),
    "staff_invite_blocked": _both(
        "⚠️ Eine Person kann den Raum {link} nicht betreten: Ihre App blockiert Einladungen. "
        "Sie schreibt in ihrem ersten Chat, und der Bot gibt ihre Nachrichten in diesen Raum "
        "weiter; Antworten dort erreichen sie aber nicht. Sie wurde gebeten, Einladungen zu "
        "erlauben; ihre nächste Nachricht danach bringt die Einladung.",
        "⚠️ A youth cannot enter the room {link}: their app blocks invitations. They write in "
        "their first chat, and the bot passes their messages on into that room; but answers "
        "there do not reach them. They were asked to allow invitations; their next message "
        "after that brings the invitation.",
    ),
    "staff_crisis_unmoved": _both(
        "⚠️ KRISENHINWEIS ohne Gespräch: Eine Person hat in einem unverschlüsselten Chat "
        "Worte geschrieben, die eine Krise sein können. Der Homeserver gibt dem Bot gerade "
        "keinen verschlüsselten Raum für sie (der Grund steht im Log), deshalb gibt es noch "
        "kein Gespräch. Sie hat die Notrufnummern bekommen. Das Gespräch kommt mit "
        "Krisenhinweis, sobald der Raum da ist; lehnt der Homeserver weiter ab, bitte den "
        "Admin fragen.",
        "⚠️ CRISIS FLAG without a conversation: a youth wrote words that may be a crisis in a "
        "chat without encryption. The homeserver has not given the bot an encrypted room for "
        "them yet (the reason is in its log), so there is no conversation yet. They were "
        "given the emergency numbers. The conversation comes, with its flag, once the room "
        "exists; if the homeserver keeps refusing, please ask the admin.",
    ),
    "staff_crisis_gone": _both(
        "⚠️ KRISENHINWEIS ohne Gespräch: Eine Person hat in einem unverschlüsselten Chat "
        "Worte geschrieben, die eine Krise sein können, und den Chat verlassen, bevor der "
        "Bot sie lesen konnte. Ein Gespräch gibt es deshalb nicht, und dort erreicht sie "
        "niemand mehr. Schreibt sie wieder, kommt ihr Chat wie jeder neue.",
        "⚠️ CRISIS FLAG without a conversation: a youth wrote words that may be a crisis in "
        "a chat without encryption and left that chat before the bot could read them. So "
        "there is no conversation, and nobody can reach them there any more. If they write "
        "again, their chat comes like any new one.",
    ),
    # The youth upgraded their chat's room (`room_upgrades.py`): the bot moved them.
    "staff_room_upgraded": _both(
        "⚠️ Gespräch {conversation}: Die Person hat ihren Chat aktualisiert (Raum-Upgrade in "
        "ihrer App). Im alten Raum kann niemand vom Team mehr schreiben, und in ihren neuen "
        "Raum kommt der Bot nicht. Das Gespräch geht deshalb im Raum {link} weiter, mit "
        "allem, was dazugehört (auch ein Krisenhinweis); die Person und ihre Beraterin sind "
        "eingeladen. Was sie bis dahin im alten Raum schreibt, gibt der Bot dorthin weiter.",
        "⚠️ Conversation {conversation}: the youth upgraded their chat (a room upgrade in "
        "their app). Nobody from the team can write in the old room any "
        "more, and the bot cannot enter their new one. So the conversation goes on in the "
        "room {link}, with everything it holds (a crisis flag too); the youth and their "
        "counsellor are invited. What they write in the old room meanwhile, the bot passes on "
        "there.",
    ),
    "staff_room_upgraded_unmoved": _both(
        "⚠️ Gespräch {conversation}: Die Person hat ihren Chat aktualisiert (Raum-Upgrade in "
        "ihrer App). Im alten Raum kann niemand vom Team mehr schreiben, in ihren neuen "
        "Raum kommt der Bot nicht, und der Homeserver gibt dem Bot gerade keinen Raum, in "
        "den er sie holen könnte (der Grund steht im Log). Die Person hat die Notrufnummern "
        "bekommen; bitte den Admin fragen.",
        "⚠️ Conversation {conversation}: the youth upgraded their chat (a room upgrade in "
        "their app). Nobody from the team can write in the old room any "
        "more, the bot cannot enter their new one, and the homeserver does not give the bot "
        "a room to bring them into (the log says why). The youth was given the emergency "
        "numbers; please ask the admin.",
    ),
    "staff_report": _both(
        "Meldung aus {where}: Jemand hat dort mit „Melden“ eine Nachricht gemeldet. Grund: "
        "„{reason}“. Nachricht: {link}",
        "Report from {where}: somebody reported a message there with \"Report\". Reason: "
        "\"{reason}\". Message: {link}",
    ),
    "staff_report_crisis": _both(
        "⚠️ KRISENWÖRTER IN EINER MELDUNG aus {where}: „{reason}“. Bitte jetzt nachsehen: "
        "{link}",
        "⚠️ CRISIS WORDS IN A REPORT from {where}: \"{reason}\". Please look now: {link}",
    ),
    "staff_crisis_assigned": _both("zugewiesen an {counsellor}", "assigned to {counsellor}"),
    "staff_crisis_unassigned": _both("noch niemand zugewiesen", "not assigned yet"),
    "staff_lead_page": _both(
        "🚨 {leads}: Krisenhinweis {conversation} ist seit {minutes} min unbearbeitet. "
        "Bitte übernehmen: „!take {conversation}“.",
        "🚨 {leads}: crisis flag {conversation} unhandled for {minutes} min. Please take "
        "it: \"!take {conversation}\".",
    ),
    # A page read in the main staff room by leads of other offices (none of the office's,
    # nor of the on-call office's, could be rung), who cannot take another office's youth.
    "staff_lead_page_elsewhere": _both(
        "🚨 {leads}: Krisenhinweis {conversation} ist seit {minutes} min unbearbeitet. "
        "Übernehmen kann ihn nur das Team der Stelle {office}: Bitte erreicht jetzt "
        "jemanden von dort.",
        "🚨 {leads}: crisis flag {conversation} unhandled for {minutes} min. Only the staff "
        "of office {office} can take it: please reach one of them now.",
    ),
    # A confirmed crisis back in the queue (its counsellor went off duty, handed it back).
    "staff_lead_page_waiting": _both(
        "🚨 {leads}: Das Krisengespräch {conversation} wartet seit {minutes} min, ohne dass "
        "jemand aus dem Dienst es hat. Bitte übernehmen: „!take {conversation}“.",
        "🚨 {leads}: crisis conversation {conversation} has waited {minutes} min with nobody "
        "on duty taking it. Please take it: \"!take {conversation}\".",
    ),
    # The youth wrote "ende" or left before anyone looked: nothing to take, but a lead
    # decides whether the team can reach out (a case code, a mail address the youth gave).
    "staff_lead_page_closed": _both(
        "🚨 {leads}: Krisenhinweis {conversation}: Das Gespräch ist beendet, bevor jemand "
        "den Hinweis bearbeitet hat (seit {minutes} min). Bitte im Team klären, ob und wie "
        "nachgefasst werden kann.",
        "🚨 {leads}: crisis flag {conversation}: the conversation ended before anyone "
        "reviewed the flag ({minutes} min ago). Please decide with the team whether and how "
        "to follow up.",
    ),
    # Posted in the youth's room, so worded for the youth, who reads it too: Megolm gives a
    # counsellor who joins late nothing written before, so the bot repeats it for them.
    "staff_transcript": _both(
        "Für {counsellor}: deine bisherigen Nachrichten ({count}). Ich schicke sie noch "
        "einmal, weil {counsellor} gerade erst dazugekommen ist und frühere Nachrichten in "
        "diesem verschlüsselten Chat sonst nicht lesen kann. Du musst nichts tun.\n{lines}",
        "For {counsellor}: your messages so far ({count}). I am sending them again because "
        "{counsellor} has only just joined and could not read earlier messages in this "
        "encrypted chat otherwise. You don't need to do anything.\n{lines}",
    ),
    "staff_unsigned_devices": _both(
        "⚠️ {counsellor}: Deine Sitzung {devices} ist nicht von dir bestätigt (nicht "
        "quersigniert). Jugendliche, deren App nur bestätigte Sitzungen zulässt (Element: "
        "„unsichere Geräte ausschließen“), können deine Nachrichten von dort nicht lesen. So "
        "bestätigst du sie in Element: Einstellungen → Sitzungen → bei dieser Sitzung "
        "„Bestätigen“ wählen, dann auf einem anderen angemeldeten Gerät zustimmen oder deinen "
        "Wiederherstellungsschlüssel eingeben. Ist es deine erste Sitzung: Einstellungen → "
        "Sicherheit → Verschlüsselung einrichten. Kennst du die Sitzung nicht, melde sie dort "
        "ab. Bis dahin gehen neue Gespräche zuerst an Kolleg*innen mit bestätigten Sitzungen.",
        "⚠️ {counsellor}: your session {devices} is not verified by you (not cross-signed). "
        "Youths whose app accepts only verified sessions (Element: \"exclude insecure "
        "devices\") cannot read your messages from it. To verify it in Element: Settings → "
        "Sessions → choose \"Verify\" on that session, then confirm on another signed-in "
        "device or enter your recovery key. If it is your first session: Settings → Security "
        "→ set up encryption. If you don't know the session, sign it out there. Until then "
        "new conversations go first to colleagues whose sessions are verified.",
    ),
    "staff_devices_verified": _both(
        "✅ {counsellor}: Alle deine Sitzungen sind jetzt bestätigt; der Hinweis zu "
        "unbestätigten Sitzungen ist erledigt.",
        "✅ {counsellor}: all your sessions are verified now; the warning about unverified "
        "sessions no longer applies.",
    ),
    "staff_identity_changed": _both(
        "🔐 {counsellor}: Deine Verschlüsselungs-Identität (Quersignierung) wurde ersetzt; "
        "sie bestätigt jetzt die Sitzungen {devices}. Hast du sie nicht selbst zurückgesetzt "
        "(neuer Wiederherstellungsschlüssel), hat jemand anderes dein Passwort: ändere es "
        "sofort, melde in Element unter Einstellungen → Sitzungen jede Sitzung ab, die du "
        "nicht kennst, und sag deiner Teamleitung Bescheid. Bis dahin gehen neue Gespräche "
        "zuerst an Kolleg*innen.",
        "🔐 {counsellor}: your encryption identity (cross-signing) was replaced; it now "
        "vouches for the sessions {devices}. If you did not reset it yourself (a new recovery "
        "key), someone else has your password: change it at once, sign out every session you "
        "don't know in Element under Settings → Sessions, and tell your team lead. Until then "
        "new conversations go to colleagues first.",
    ),
    "staff_new_mail": _both(
        "Neue Mail-Anfrage {conversation} in der Warteschlange (Erstantwort-Frist läuft).",
        "New mail enquiry {conversation} in the queue (first-reply deadline running).",
    ),
    "mail.reminder": _both(
        "Erinnerung: {conversation} (Mail) braucht eine erste Antwort bis {due}.",
        "Reminder: {conversation} (mail) needs a first reply by {due}.",
    ),
    "mail.breach": _both(
        "Frist verpasst: {conversation} (Mail) hat keine erste Antwort bekommen.",
        "Deadline missed: {conversation} (mail) got no first reply in time.",
    ),
    "chat.ended_for_youth": _both(
        "Die Beratung hat den Chat in diesem Raum beendet. Wenn du die Person bist, die uns "
        "gemailt hat, antworte einfach weiter per Mail.",
        "The counselling has ended the chat in this room. If you are the person who mailed "
        "us, simply keep answering by mail.",
    ),
    "chat.ended_staff": _both(
        "{conversation}: Wer mit dem Fall-Code kam, wird aus dem Raum entfernt; der Code gilt "
        "nicht mehr. Es geht per Mail weiter, an die Adresse, an die die Antworten gehen.",
        "{conversation}: whoever came in with the case code is being removed from the room; "
        "the code no longer works. It goes on by mail, to the address the replies go to.",
    ),
    "chat.end_not_mail": _both(
        "{conversation} hat keine Mailadresse: „!chat end“ geht nur in einem Gespräch, das "
        "per Mail begann oder eine bestätigte Adresse hat.",
        "{conversation} has no mail address: \"!chat end\" works only in a conversation that "
        "began by mail or has a proven address.",
    ),
    "chat.only_mail": _both(
        "„!chat“ geht nur im Raum eines Mail-Gesprächs.",
        "\"!chat\" works only in a mail conversation's room.",
    ),
    "chat.end_first": _both(
        "Das Gespräch ist im Chat, in den jemand mit dem Fall-Code kam. Für einen neuen "
        "Code (die Person hat den Chat verloren, ein neues Handy): erst „!chat end“ (wer mit "
        "dem Code kam, wird aus dem Raum entfernt, es geht per Mail weiter), dann „!chat“.",
        "The conversation is in the chat someone came into with the case code. For a new "
        "code (they lost the chat, a new phone): first \"!chat end\" (whoever came in with "
        "the code is removed from the room, it goes on by mail), then \"!chat\".",
    ),
    "chat.unavailable": _both(
        "Für {conversation} kann keine Chat-Einladung verschickt werden (die Registrierung ist "
        "geschlossen oder der Bot hat keinen Admin-Zugang).",
        "No chat invitation can be sent for {conversation} (registration is closed or the bot "
        "has no admin access).",
    ),
    "chat.invited": _both(
        "Chat-Einladung für {conversation} ist per Mail unterwegs. Wenn die Person den Code "
        "schickt, kommt sie in diesen Raum.",
        "The chat invitation for {conversation} is on its way by mail. When the person sends "
        "the code, they join this room.",
    ),
    "staff_assigned": _both(
        "{conversation} ist jetzt bei {counsellor}. Einladung in den Raum ist raus.",
        "{conversation} is now with {counsellor}. The room invitation has been sent.",
    ),
    "duty.on": _both(
        "Du bist im Dienst (Kapazität {capacity}, offen {load}).",
        "You are on duty (capacity {capacity}, open {load}).",
    ),
    "duty.unsigned_warn": _both(
        "Achtung: Deine Sitzung {devices} ist nicht bestätigt; manche Jugendliche können "
        "dich von dort nicht lesen. Bitte bestätige sie (Schritte im Teamraum).",
        "Note: your session {devices} is not verified; some youths cannot read you from it. "
        "Please verify it (steps in the staff room).",
    ),
    "duty.unsigned_refused": _both(
        "Du bist nicht in den Dienst gegangen: Deine Sitzung {devices} ist nicht bestätigt; "
        "manche Jugendliche könnten dich nicht lesen. Bestätige sie (Schritte im Teamraum), "
        "dann schreib noch einmal „!duty on“.",
        "Not on duty: your session {devices} is not verified, and some youths could not read "
        "you. Verify it (steps in the staff room), then write \"!duty on\" again.",
    ),
    "duty.off": _both(
        "Du bist nicht mehr im Dienst. Übergeben: {handed_back}.",
        "You are off duty. Handed over: {handed_back}.",
    ),
    "transfer.queue_nobody_left": _both(
        "{id} ist zurück in der Warteschlange, aber niemand sonst im Dienst kann es "
        "übernehmen: die Person wartet, bis jemand kommt. Bitte sag der Teamleitung "
        "Bescheid oder nimm es zurück („!take {id}“).",
        "{id} is back in the queue, but nobody else on duty can take it: the person waits "
        "until someone comes. Please tell the team lead, or take it back (\"!take {id}\").",
    ),
    "duty.off_nobody_left": _both(
        "Du bist nicht mehr im Dienst. Aber niemand sonst im Dienst kann übernehmen: "
        "{waiting} Gespräch(e) warten jetzt in der Warteschlange, davon {crisis} mit "
        "Krisenhinweis. Bitte sag der Teamleitung Bescheid oder bleib, bis jemand da ist "
        "(„!duty on“).",
        "You are off duty. But nobody else on duty can take over: {waiting} conversation(s) "
        "now wait in the queue, {crisis} of them flagged as a crisis. Please tell the team "
        "lead, or stay until someone comes (\"!duty on\").",
    ),
    "capacity.set": _both(
        "Kapazität {capacity} (offen {load}).", "Capacity {capacity} (open {load})."
    ),
    "languages.set": _both("Sprachen: {languages}.", "Languages: {languages}."),
    "topics.set": _both("Themen: {topics}.", "Topics: {topics}."),
    "status": _both(
        "Du bist im Dienst. Rolle: {role}, Kapazität: {capacity}, offene Gespräche: {load}"
        "{conversations}. Sprachen: {languages}. Themen: {topics}.",
        "You are on duty. Role: {role}, capacity: {capacity}, open conversations: {load}"
        "{conversations}. Languages: {languages}. Topics: {topics}.",
    ),
    "status.off_duty": _both(
        "Du bist nicht im Dienst. Rolle: {role}, Kapazität: {capacity}, offene Gespräche: "
        "{load}{conversations}. Sprachen: {languages}. Themen: {topics}.",
        "You are off duty. Role: {role}, capacity: {capacity}, open conversations: {load}"
        "{conversations}. Languages: {languages}. Topics: {topics}.",
    ),
    "queue": _both(
        "Warteschlange: {waiting} wartend ({crisis} Krise), {on_duty} im Dienst, {free_slots} "
        "freie Plätze.{entries}",
        "Queue: {waiting} waiting ({crisis} crisis), {on_duty} on duty, {free_slots} free "
        "slots.{entries}",
    ),
    "queue.empty": _both("Niemand wartet.", "Nobody is waiting."),
    "crisis.confirmed": _both("Krisenhinweis {id} bestätigt.", "Crisis flag {id} confirmed."),
    "crisis.dismissed": _both("Krisenhinweis {id} verworfen.", "Crisis flag {id} dismissed."),
    "refused.not_staff": _both(
        "Dieser Befehl ist nur für das Beratungsteam.", "This command is for the counselling "
        "team only.",
    ),
    "refused.off_duty": _both(
        "Dafür musst du im Dienst sein: „!duty on“.", "You need to be on duty: \"!duty on\".",
    ),
    "refused.at_capacity": _both(
        "Deine Kapazität ist voll. Schließe ein Gespräch oder erhöhe sie mit „!capacity N“.",
        "You are at capacity. Close a conversation or raise it with \"!capacity N\".",
    ),
    "refused.unknown_conversation": _both(
        "Gespräch {id} gibt es nicht (oder es ist geschlossen). „!queue“ zeigt die offenen.",
        "There is no open conversation {id}. \"!queue\" lists the open ones.",
    ),
    "refused.already_yours": _both("{id} ist schon bei dir.", "{id} is already yours."),
    "refused.assigned_to_other": _both(
        "{id} ist schon bei jemand anderem. Die Teamleitung kann es übertragen.",
        "{id} is with someone else. A team lead can transfer it.",
    ),
    "refused.not_assigned": _both("{id} ist niemandem zugewiesen.", "{id} is not assigned."),
    "refused.not_yours": _both(
        "{id} ist nicht dein Gespräch. Nur die Teamleitung darf fremde Gespräche ändern.",
        "{id} is not your conversation. Only team leads may act on others' conversations.",
    ),
    "refused.team_lead_only": _both(
        "Das darf für {id} nur die Teamleitung.", "Only a team lead may do that for {id}.",
    ),
    "refused.crisis_waiting": _both(
        "Es wartet ein Krisengespräch; bitte zuerst „!next“. ({id} bleibt in der Schlange.)",
        "A crisis conversation is waiting; please use \"!next\" first. ({id} stays queued.)",
    ),
    "refused.same_counsellor": _both(
        "Das Gespräch ist schon bei dieser Person.", "The conversation is already with them.",
    ),
    "refused.target_not_staff": _both(
        "Diese Person gehört nicht zum Beratungsteam.", "That person is not on the team.",
    ),
    "refused.target_off_duty": _both(
        "Diese Person ist nicht im Dienst.", "That person is not on duty.",
    ),
    "refused.target_full": _both(
        "Diese Person hat keine freie Kapazität.", "That person has no free capacity.",
    ),
    "refused.bad_capacity": _both(
        "Kapazität muss zwischen 0 (keine neuen Gespräche) und {max} liegen.",
        "Capacity must be between 0 (no new conversations) and {max}.",
    ),
    "refused.bad_languages": _both(
        "Sprachen als Kürzel, z. B. „!languages de en“.",
        "Languages as codes, e.g. \"!languages de en\".",
    ),
    "refused.no_crisis_flag": _both(
        "{id} hat keinen Krisenhinweis; nichts verworfen. Die Nummer steht in der Krisenmeldung "
        "hier im Teamraum: „!dismiss C-…“ mit dieser Nummer.",
        "{id} has no crisis flag; nothing dismissed. The id is in the crisis alert here in the "
        "staff room: \"!dismiss C-…\" with that id.",
    ),
    "refused.bad_topics": _both(
        "Höchstens {max} Themen, als einzelne Wörter.", "At most {max} topics, single words.",
    ),
    "command.unknown": _both(
        "Diesen Befehl kenne ich nicht. „!help“ zeigt alle.",
        "I don't know that command. \"!help\" lists them all.",
    ),
    "command.missing_argument": _both(
        "Da fehlt etwas. So geht es: {hint}", "Something is missing. Usage: {hint}",
    ),
    "command.bad_argument": _both(
        "Das verstehe ich nicht. So geht es: {hint}", "I don't understand that. Usage: {hint}",
    ),
    "command.too_many_arguments": _both(
        "Zu viele Angaben. So geht es: {hint}", "Too many arguments. Usage: {hint}",
    ),
    "command.too_long": _both("Der Befehl ist zu lang.", "The command is too long."),
    # An edit is never carried out (one carried out already would be twice): said, since a
    # counsellor who corrected "!duty of" believes they signed off.
    "command.edited": _both(
        "Eine bearbeitete Nachricht führe ich nicht als Befehl aus. Schick „{command}“ "
        "bitte als neue Nachricht.",
        "I do not carry out an edited message as a command. Please send \"{command}\" as a "
        "new message.",
    ),
    "command.not_yet": _both(
        "Das kann der Bot noch nicht (kommt mit einem späteren Update).",
        "The bot cannot do that yet (a later update adds it).",
    ),
    "help_text": _both("{text}", "{text}"),
    "video.where": _both(
        "„!video“ geht nur im Raum eines Gesprächs.",
        "\"!video\" works only in a conversation's room.",
    ),
    "video.mail_off": _both(
        "Mail ist in dieser Installation ausgeschaltet ([mail] enabled): Der Link zum "
        "Videoanruf würde die Person nicht erreichen. Lade sie mit „!chat“ in den Chat ein, "
        "sobald Mail wieder an ist.",
        "Mail is switched off in this installation ([mail] enabled): the video link would "
        "not reach the person. Invite them to chat with \"!chat\" once mail is on again.",
    ),
    "video.counsellor_link": _both(
        "Video für {conversation} – dein Link (Moderation): {url}",
        "Video for {conversation} – your link (moderator): {url}",
    ),
    "video.staff_link": _both(
        "Video für {conversation} – dein Link: {url}",
        "Video for {conversation} – your link: {url}",
    ),
    "unreadable_staff_message": _both(
        "{conversation}: Eine Nachricht von {counsellor} in diesem Gespräch konnte der Bot "
        "nicht entschlüsseln (die App hat ihm ihren Schlüssel nicht gegeben). War es ein "
        "Befehl (!…), ist er nicht ausgeführt: bitte noch einmal senden. Passiert das öfter, "
        "in der App ab- und wieder anmelden.",
        "{conversation}: the bot could not decrypt a message from {counsellor} in this "
        "conversation (the app did not give it the key). If it was a command (!…), it was "
        "not carried out: please send it again. If this keeps happening, log out of the app "
        "and back in.",
    ),
    "private.unaccepted_staff": _both(
        "{conversation}: Für {counsellor} wartet seit {minutes} Minuten eine Nachricht im "
        "direkten Raum mit dem Bot (eine Mail der Person oder ein Link), aber die Einladung "
        "in diesen Raum ist nicht angenommen. Bitte erreicht {counsellor} oder übernehmt das "
        "Gespräch.",
        "{conversation}: a message for {counsellor} has waited {minutes} minutes in the "
        "direct room with the bot (the person's mail or a link), but the invitation to that "
        "room has not been accepted. Please reach {counsellor} or take the conversation "
        "over.",
    ),
    "video.link_sent": _both(
        "Video für {conversation}: der Link geht privat an {to}, in die Direktnachricht vom "
        "Bot (nimm seine Einladung dazu an, falls noch nicht geschehen).",
        "Video for {conversation}: the link goes privately to {to}, in a direct message "
        "from the bot (accept its invitation to it if you have not yet).",
    ),
})


# Youth-initiated deletion and supervision: what the youth and staff are told.
CATALOGUE.update({
    "delete.confirm": _both(
        "Möchtest du das Gespräch beenden und alles löschen? Dann löschen wir diesen Chat "
        "mit allen Nachrichten und – weil dein Konto anonym ist – auch dein Konto. Das kann "
        "man nicht rückgängig machen.\nWenn du sicher bist, schreib in den nächsten 10 "
        "Minuten „ja löschen“. Sonst schreib einfach weiter.",
        "Do you want to end the conversation and delete everything? Then we delete this "
        "chat with all messages and – because your account is anonymous – your account "
        "too. This cannot be undone.\nIf you are sure, write \"yes delete\" within the next "
        "10 minutes. Otherwise simply keep writing.",
    ),
    "delete.confirm_later": _both(
        "Sofort löschen kann ich den Chat hier leider nicht. Ich kann das Gespräch aber "
        "beenden; die Beratungsstelle löscht es dann automatisch nach der festgelegten "
        "Frist.\nWenn du das möchtest, schreib in den nächsten 10 Minuten „ja löschen“.",
        "I cannot delete this chat right away here, sorry. But I can end the conversation; "
        "the counselling office then deletes it automatically after the set period.\nIf "
        "you want that, write \"yes delete\" within the next 10 minutes.",
    ),
    "delete.ask_first": _both(
        "Wenn du das Gespräch beenden und alles löschen möchtest, schreib zuerst „löschen“.",
        "If you want to end the conversation and delete everything, write \"delete\" "
        "first.",
    ),
    "delete.now": _both(
        "Okay. Das Gespräch ist beendet und wird jetzt gelöscht, zusammen mit deinem "
        "Konto. Pass auf dich auf! Wenn du wieder reden möchtest, leg einfach ein neues "
        "Konto an.\nWenn es dir sehr schlecht geht: {emergency}",
        "Okay. The conversation has ended and is being deleted now, together with your "
        "account. Take care! If you want to talk again, simply create a new account.\nIf "
        "you are in a bad way: {emergency}",
    ),
    "delete.by_retention": _both(
        "Okay. Das Gespräch ist beendet. Die Beratungsstelle löscht es automatisch nach der "
        "festgelegten Frist. Pass auf dich auf!\nWenn es dir sehr schlecht geht: {emergency}",
        "Okay. The conversation has ended. The counselling office deletes it automatically "
        "after the set period. Take care!\nIf you are in a bad way: {emergency}",
    ),
    "staff_deleted": _both(
        "{conversation} wurde von der Person beendet und auf ihren Wunsch gelöscht.",
        "{conversation} was ended by the person and deleted at their request.",
    ),
    "staff_deleted_again": _both(
        "{conversation} wird wieder gelöscht: Die Person hatte es löschen lassen, nachdem "
        "die Sicherung gemacht wurde, aus der diese Daten wiederhergestellt sind.",
        "{conversation} is being deleted again: the person had it deleted after the backup "
        "these data were restored from was made.",
    ),
    "staff_delete_by_retention": _both(
        "{conversation} wurde von der Person beendet; sie wollte es löschen. Ohne Admin-"
        "Zugang des Bots löscht es die Aufbewahrungsfrist.",
        "{conversation} was ended by the person, who wanted it deleted. Without admin access "
        "for the bot, retention deletes it.",
    ),
    "supervision.started": _both(
        "Zur Info: Eine Person aus der Teamleitung liest jetzt in diesem Chat mit. Sie "
        "schreibt nicht selbst. Das machen wir, damit die Beratung gut ist und du sicher "
        "bist. Ich sage dir Bescheid, wenn sie nicht mehr mitliest.",
        "Just so you know: someone from the team lead now reads along in this chat. They "
        "don't write themselves. We do this so the counselling is good and you are safe. I "
        "will tell you when they stop reading along.",
    ),
    "supervision.ended": _both(
        "Die Person aus der Teamleitung liest jetzt nicht mehr mit.",
        "The person from the team lead no longer reads along.",
    ),
    "supervise.unsigned_refused": _both(
        "Du liest nicht mit: Deine Sitzung {devices} ist nicht bestätigt, und im Raum der "
        "Person bekäme sie deren Schlüssel. Bestätige sie (Schritte im Teamraum), dann "
        "schreib den Befehl noch einmal.",
        "Not reading along: your session {devices} is not verified, and in the youth's room "
        "it would get their keys. Verify it (steps in the staff room), then write the command "
        "again.",
    ),
    "supervise.unsigned_ended": _both(
        "Du liest in {id} nicht mehr mit: Deine Sitzung {devices} ist nicht bestätigt, und "
        "im Raum der Person bekäme sie deren Schlüssel. Die Person ist informiert. Bestätige "
        "die Sitzung (Schritte im Teamraum), dann schreib „!supervise {id}“ noch einmal.",
        "You no longer read along in {id}: your session {devices} is not verified, and in "
        "the youth's room it would get their keys. The person has been told. Verify the "
        "session (steps in the staff room), then write \"!supervise {id}\" again.",
    ),
    "supervise.mail_off": _both(
        "Du liest in {id} nicht mit: Mail ist in dieser Installation ausgeschaltet ([mail] "
        "enabled), und die Person schreibt per Mail; sie erführe nicht, dass jemand "
        "mitliest. Das geht wieder, sobald Mail an ist.",
        "Not reading along in {id}: mail is switched off in this installation ([mail] "
        "enabled), and the person writes by mail; they would not learn that someone reads "
        "along. It works again once mail is on.",
    ),
    "supervise.on": _both(
        "Du begleitest {id} jetzt nur lesend; die Einladung ist raus. Die Person ist "
        "informiert. Beenden: „!supervise end {id}“.",
        "You now read along in {id}, read-only; the invitation has been sent. The person "
        "has been told. Stop: \"!supervise end {id}\".",
    ),
    "supervise.off": _both(
        "Du begleitest {id} nicht mehr.", "You no longer read along in {id}.",
    ),
    "supervise.already": _both(
        "Du begleitest {id} schon.", "You already read along in {id}.",
    ),
    "supervise.not_active": _both(
        "Du begleitest {id} gerade nicht.", "You are not reading along in {id}.",
    ),
})


# Several offices (issue 16): which office a youth reaches, and office commands for staff.
CATALOGUE.update({
    # The greeting promised the wait after the first message: it comes with the answer.
    "office.ask": _both(
        "Damit du bei der richtigen Beratungsstelle landest: Worum geht es ungefähr? "
        "Schreib einfach die Zahl:\n{menu}\nWenn du magst, auch deine Postleitzahl "
        "(freiwillig). Danach sage ich dir, wie lange es etwa dauert.",
        "So that you reach the right counselling office: what is it roughly about? "
        "Just type the number:\n{menu}\nIf you like, your postcode too (optional). Then I "
        "will tell you about how long it takes.",
    ),
    "office.chosen": _both(
        "Danke! Du bist jetzt bei: {office}. Jemand von dort kommt in diesen Chat.",
        "Thank you! You are now with: {office}. Someone from there will join this chat.",
    ),
    "office.fallback": _both(
        "Danke! Ich gebe dich an {office} weiter – dort kümmert sich jemand um alle Themen.",
        "Thank you! I am passing you on to {office} – they help with every topic.",
    ),
    "office.transferred_youth": _both(
        "Dein Gespräch ist jetzt bei: {office}. Jemand von dort kommt dazu, sobald jemand "
        "frei ist.",
        "Your conversation is now with: {office}. Someone from there will join as soon as "
        "one is free.",
    ),
    "office.transferred": _both(
        "{id} ist jetzt bei der Stelle {office}; die Person ist informiert.",
        "{id} is now with the office {office}; the person has been told.",
    ),
    "office.out_of_hours": _both(
        "{text}\nWenn es dringend ist: {emergency}", "{text}\nIf it is urgent: {emergency}",
    ),
    "refused.unknown_office": _both(
        "Eine Stelle „{office}“ gibt es nicht. Die Stellen: {offices}.",
        "There is no office \"{office}\". The offices: {offices}.",
    ),
    "refused.same_office": _both(
        "{id} ist schon bei {office}.", "{id} is already with {office}.",
    ),
    "refused.target_other_office": _both(
        "Diese Person arbeitet für eine andere Stelle. Zuerst „!transfer {id} office:ID“.",
        "That person works for another office. First \"!transfer {id} office:ID\".",
    ),
})


class _Lenient(dict[str, object]):
    """Missing parameters show as "?" instead of crashing a reply."""

    def __missing__(self, key: str) -> str:
        return "?"


def spoken(code: str | None) -> Language:
    """The catalogue's language for a conversation's language code: English for "en",
    German for anything else (the office's language, and the one every text has)."""
    return "en" if code == "en" else "de"


def youth_words(language: Language, *, video: bool, mail: bool,
                more: Sequence[str] = ()) -> str:
    """The words a youth can write alone (for "youth_help"): "video" and "mail" only where
    they are set up, or the youth is sent on to "not available here"; ``more``: those of
    the parts that are on ("gruppe", "forum"), after them."""
    first = {"de": ("hilfe", "video", "mail"), "en": ("help", "video", "mail")}[language]
    last = {"de": ("ende", "löschen", "english"), "en": ("end", "delete", "deutsch")}[language]
    shown = [*(w for w in first if (w != "video" or video) and (w != "mail" or mail)),
             *more, *last]
    return ", ".join(f"„{w}“" if language == "de" else f'"{w}"' for w in shown)


def text(key: str, language: Language, /, **params: object) -> str:
    """The text for ``key`` in ``language``; params fill ``{placeholders}``."""
    template = CATALOGUE[key][language]
    return template.format_map(_Lenient(params))


# Group sessions and the forum keep their texts in their own module.
from counsel_bot.core.group_messages import TEXTS as _GROUP_TEXTS  # noqa: E402

CATALOGUE.update(_GROUP_TEXTS)
def _workday_texts() -> None:
    # Imported here, not at the top: messages_workday imports Language from this module.
    from counsel_bot.core.messages_workday import TEXTS

    CATALOGUE.update(TEXTS)


_workday_texts()
