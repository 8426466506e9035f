"""Every sentence of the entry page, in German and English, in plain language.

Readers may be twelve: short sentences, one idea each, no jargon without an explanation.
Texts are plain text (the renderer escapes them); ``{minutes}`` and ``{hours}`` are filled in
with the number and its word (`amount`: "1 Stunde", "24 Stunden").
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from homeserver_bridge.entry_page.content import Lang


@dataclass(frozen=True)
class Texts:
    title: str
    skip_link: str
    switch_label: str
    switch_name: str
    headline: str
    intro: str
    intro_topics: str
    start_link: str
    emergency_heading: str
    emergency_lead: str
    # Above an office's own helplines, which the page does not know to be free.
    emergency_lead_own: str
    word_or: str
    private_heading: str
    private_name: str
    private_encrypted: str
    private_page: str
    hours_heading: str
    hours_later: str
    hours_unknown: str
    steps_heading: str
    step1_heading: str
    step1_text: str
    step1_browser: str
    step2_heading: str
    step2_create: str
    step2_server: str
    step2_nickname: str
    step2_remember: str
    code_ask: str
    code_button: str
    code_rules: str
    code_heading: str
    code_use: str
    code_copy_hint: str
    code_issued_rules: str
    code_limited_address: str
    code_limited_global: str
    code_failed: str
    refused_help: str
    closed_text: str
    step3_heading: str
    step3_link_lead: str
    step3_link: str
    step3_qr_lead: str
    step3_qr_alt: str
    step3_by_name: str
    step3_hello: str
    step3_bot: str
    footer: str


GERMAN = Texts(
    title="Online-Beratung: anonym und sicher chatten",
    skip_link="Direkt zum Inhalt",
    switch_label="Sprache",
    switch_name="English",
    headline="Schreib uns. Anonym und sicher.",
    intro="Hier kannst du mit einer Beraterin oder einem Berater chatten.",
    intro_topics=(
        "Über alles, was dich beschäftigt: Stress zu Hause oder in der Schule, Liebe, Streit, "
        "Angst. Oder wenn es dir einfach nicht gut geht."
    ),
    start_link="Los geht's: in 3 Schritten zum Chat",
    emergency_heading="Du brauchst jetzt sofort Hilfe?",
    emergency_lead="Dann ruf an. Die Anrufe sind kostenlos.",
    emergency_lead_own="Dann ruf an.",
    word_or="oder",
    private_heading="Anonym und verschlüsselt",
    private_name=(
        "Du brauchst keinen echten Namen, keine E-Mail und keine Telefonnummer. "
        "Ein Spitzname reicht."
    ),
    private_encrypted=(
        # Not "only you and your counsellor": the bot reads what a youth writes before a
        # counsellor is there, and a team lead may read along (as the bot's welcome says).
        "Der Chat ist Ende-zu-Ende-verschlüsselt. Das heißt: Nur du und unser "
        "Beratungsteam können die Nachrichten lesen. Der Server kann es nicht."
    ),
    private_page="Diese Seite setzt keine Cookies und zählt keine Besucher.",
    hours_heading="Wann wir da sind",
    hours_later=(
        "Du kannst auch zu anderen Zeiten schreiben. Dann antworten wir, "
        "sobald wieder jemand da ist."
    ),
    hours_unknown="Schreib uns einfach. Wir antworten, sobald jemand da ist.",
    steps_heading="So kommst du in den Chat",
    step1_heading="Schritt 1: Hol dir eine Matrix-App",
    step1_text=(
        "Matrix ist eine Art zu chatten, ähnlich wie WhatsApp. Aber niemand verdient an "
        "deinen Daten. Diese Apps sind kostenlos:"
    ),
    step1_browser="Element gibt es auch für den Computer.",
    step2_heading="Schritt 2: Mach dir ein Konto bei uns",
    step2_create="Tippe in der App auf „Konto erstellen“. Ändere dort den Server.",
    step2_server="Tippe diese Server-Adresse ein:",
    step2_nickname=(
        "Denk dir einen Spitznamen aus. Nimm nicht deinen echten Namen. Das gilt auch für "
        "den Namen deines Geräts, falls die App danach fragt (nicht „Lenas Handy“)."
    ),
    step2_remember=(
        "Denk dir auch ein Passwort aus, mindestens 10 Zeichen lang (zum Beispiel drei "
        "Wörter), und schreib es dir gut auf. Wir können es nicht zurücksetzen, denn wir "
        "kennen deine E-Mail nicht."
    ),
    code_ask="Die App fragt nach einem Code (auf Englisch: „Registration token“). "
    "Den bekommst du hier:",
    code_button="Code holen",
    code_rules="Ein Code gilt {hours} und für ein Konto.",
    code_heading="Dein Code",
    code_use="Tippe diesen Code in der App ein, wenn sie danach fragt:",
    code_copy_hint="Zum Kopieren: Halte den Finger auf den Code.",
    code_issued_rules="Der Code gilt {hours} und für ein Konto. Du brauchst nur einen.",
    code_limited_address=(
        "Du hast schon mehrere Codes bekommen. Ein Code reicht für ein Konto. "
        "Einen neuen Code gibt es in etwa {minutes}."
    ),
    code_limited_global=(
        "Gerade holen sehr viele Menschen einen Code. Bitte versuch es in etwa "
        "{minutes} noch einmal."
    ),
    code_failed="Das hat leider nicht geklappt. Bitte versuch es gleich noch einmal.",
    refused_help="Wenn du jetzt sofort Hilfe brauchst, ruf eine der Nummern oben an.",
    closed_text=(
        "Im Moment kann man hier leider kein neues Konto machen. Bitte schau später noch "
        "einmal vorbei. Wenn du jetzt Hilfe brauchst, ruf eine der Nummern oben an."
    ),
    step3_heading="Schritt 3: Öffne den Chat mit uns",
    step3_link_lead="Tippe auf den Link. Er öffnet den Chat in deiner App.",
    step3_link="Chat mit der Beratung öffnen",
    step3_qr_lead="Bist du am Computer? Dann scanne diesen QR-Code mit deinem Handy:",
    step3_qr_alt="QR-Code: öffnet den Chat mit der Beratung",
    step3_by_name="Oder starte in der App einen neuen Chat mit:",
    step3_hello="Schreib einfach „Hallo“. Dann geht es los.",
    step3_bot=(
        "Zuerst antwortet ein Bot, also ein Computer-Programm. Er sagt dir, wann ein Mensch "
        "für dich da ist."
    ),
    footer="Keine Cookies. Keine Werbung. Keine Besucher-Zählung.",
)

ENGLISH = Texts(
    title="Online counselling: chat anonymously and safely",
    skip_link="Skip to content",
    switch_label="Language",
    switch_name="Deutsch",
    headline="Write to us. Anonymous and safe.",
    intro="Here you can chat with a counsellor.",
    intro_topics=(
        "About anything on your mind: stress at home or at school, love, fights, fear. "
        "Or when you just don't feel good."
    ),
    start_link="Let's go: 3 steps to the chat",
    emergency_heading="Do you need help right now?",
    emergency_lead="Then call. The calls are free.",
    emergency_lead_own="Then call.",
    word_or="or",
    private_heading="Anonymous and encrypted",
    private_name="You don't need your real name, an email or a phone number. A nickname is enough.",
    private_encrypted=(
        "The chat is end-to-end encrypted. This means: only you and our counselling team "
        "can read the messages. The server cannot."
    ),
    private_page="This page sets no cookies and does not count visitors.",
    hours_heading="When we are here",
    hours_later="You can write at other times too. Then we answer as soon as someone is back.",
    hours_unknown="Just write to us. We answer as soon as someone is here.",
    steps_heading="How to get into the chat",
    step1_heading="Step 1: Get a Matrix app",
    step1_text=(
        "Matrix is a way to chat, a bit like WhatsApp. But nobody makes money from your "
        "data. These apps are free:"
    ),
    step1_browser="Element also works on a computer.",
    step2_heading="Step 2: Make an account with us",
    step2_create="In the app, tap “Create account”. Then change the server.",
    step2_server="Type in this server address:",
    step2_nickname=(
        "Think of a nickname. Don't use your real name. The same goes for your device's "
        "name, if the app asks for one (not \"Lena's phone\")."
    ),
    step2_remember=(
        "Think of a password too, at least 10 characters long (three words, for example), "
        "and write it down somewhere safe. We can't reset it, because we don't know your "
        "email."
    ),
    code_ask="The app asks for a code (called “registration token”). You can get one here:",
    code_button="Get a code",
    code_rules="A code works for {hours} and for one account.",
    code_heading="Your code",
    code_use="Type this code into the app when it asks for it:",
    code_copy_hint="To copy it: press and hold the code.",
    code_issued_rules="The code works for {hours} and for one account. You only need one.",
    code_limited_address=(
        "You already got several codes. One code is enough for one account. "
        "You can get a new code in about {minutes}."
    ),
    code_limited_global=(
        "Right now a lot of people are getting codes. Please try again in about "
        "{minutes}."
    ),
    code_failed="Sorry, that didn't work. Please try again in a moment.",
    refused_help="If you need help right now, call one of the numbers above.",
    closed_text=(
        "Right now you can't make a new account here. Please come back later. "
        "If you need help now, call one of the numbers above."
    ),
    step3_heading="Step 3: Open the chat with us",
    step3_link_lead="Tap the link. It opens the chat in your app.",
    step3_link="Open the chat with a counsellor",
    step3_qr_lead="On a computer? Then scan this QR code with your phone:",
    step3_qr_alt="QR code: opens the chat with a counsellor",
    step3_by_name="Or start a new chat in the app with:",
    step3_hello="Just write “Hello”. Then we start.",
    step3_bot=(
        "First a bot answers. A bot is a computer program. It tells you when a person is "
        "there for you."
    ),
    footer="No cookies. No ads. No visitor counting.",
)

TEXTS = MappingProxyType({"de": GERMAN, "en": ENGLISH})


def texts_for(lang: Lang) -> Texts:
    return TEXTS[lang]


_UNITS = MappingProxyType({
    "de": {"hours": ("Stunde", "Stunden"), "minutes": ("Minute", "Minuten")},
    "en": {"hours": ("hour", "hours"), "minutes": ("minute", "minutes")},
})


def amount(lang: Lang, unit: str, count: int) -> str:
    """A number with its word, singular for one: "1 Stunde", "24 Stunden", "1 minute"."""
    one, many = _UNITS[lang][unit]
    return f"{count} {one if count == 1 else many}"
