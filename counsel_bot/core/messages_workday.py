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
    "timers.requeued_nobody": _both(
        "{conversation} hat {minutes} Min. keine Antwort von {counsellor} bekommen und ist "
        "zurück in der Warteschlange, aber niemand sonst im Dienst kann es übernehmen. "
        "{leads}: Bitte kümmert euch darum („!take {conversation}“) oder fragt bei "
        "{counsellor} nach.",
        "{conversation} got no reply from {counsellor} for {minutes} min and is back in the "
        "queue, but nobody else on duty can take it. {leads}: please look after it "
        "(\"!take {conversation}\") or check on {counsellor}.",
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
    "snippets.added_office": _both(
        "Textbaustein „{name}“ für die Stelle {office} gespeichert (verschlüsselt). Abrufen "
        "mit „!s {name}“.",
        "Snippet \"{name}\" saved for office {office} (sealed). Use it with \"!s {name}\".",
    ),
    "snippets.which_office": _both(
        "Für welche Stelle? Du arbeitest für mehrere ({offices}); schreib den Befehl im "
        "Teamraum dieser Stelle oder im Raum eines ihrer Gespräche.",
        "For which office? You work for several ({offices}); give the command in that "
        "office's staff room or in the room of one of its conversations.",
    ),
    "snippets.removed": _both("Textbaustein „{name}“ entfernt.",
                              "Snippet \"{name}\" removed."),
    "snippets.list": _both("Textbausteine: {names}", "Snippets: {names}"),
    "appointments.proposed_inperson": _both(
        "Deine Beraterin oder dein Berater schlägt dir einen Termin vor Ort vor: {when} "
        "({minutes} Min.) in unserer Beratungsstelle, {address}. Du musst uns dafür keinen "
        "Namen und keine Adresse sagen. Passt das? Antworte „ja“ oder „nein“ (oder "
        "„anderer Termin“).",
        "Your counsellor suggests meeting in person: {when_en} ({minutes} min) at our office, "
        "{address}. You don't have to tell us your name or address. Does that work? Answer "
        "\"yes\" or \"no\" (or \"other time\").",
    ),
    "appointments.proposed_phone": _both(
        "Deine Beraterin oder dein Berater schlägt dir ein Telefongespräch vor: {when} "
        "({minutes} Min.). Du rufst uns dann an: {phone} (du kannst deine Nummer "
        "unterdrücken). Passt das? Antworte „ja“ oder „nein“ (oder „anderer Termin“).",
        "Your counsellor suggests a phone call: {when_en} ({minutes} min). You call us then: "
        "{phone} (you can hide your number). Does that work? Answer \"yes\" or \"no\" "
        "(or \"other time\").",
    ),
    "appointments.proposed_video": _both(
        "Deine Beraterin oder dein Berater schlägt dir ein Videogespräch vor: {when} "
        "({minutes} Min.). Den Link bekommst du 15 Minuten vorher hier. Passt das? "
        "Antworte „ja“ oder „nein“ (oder „anderer Termin“).",
        "Your counsellor suggests a video call: {when_en} ({minutes} min). You get the link "
        "here 15 minutes before. Does that work? Answer \"yes\" or \"no\" (or \"other "
        "time\").",
    ),
    "appointments.proposed_staff": _both(
        "Termin {id} für {conversation} vorgeschlagen: {when}, {minutes} Min. Die Person "
        "antwortet mit ja oder nein.",
        "Appointment {id} proposed for {conversation}: {when_en}, {minutes} min. The person "
        "answers yes or no.",
    ),
    "appointments.confirmed": _both(
        "Super, der Termin steht: {when} ({minutes} Min.). Hier ist er als Kalenderdatei. "
        "Ich erinnere dich am Tag vorher und 15 Minuten vorher.",
        "Great, it's a date: {when_en} ({minutes} min). Here it is as a calendar file. I will "
        "remind you the day before and 15 minutes before.",
    ),
    # Confirmed less than a day ahead: no day-before reminder comes (`ap.confirmed`).
    "appointments.confirmed_soon": _both(
        "Super, der Termin steht: {when} ({minutes} Min.). Hier ist er als Kalenderdatei. "
        "Ich erinnere dich 15 Minuten vorher.",
        "Great, it's a date: {when_en} ({minutes} min). Here it is as a calendar file. I will "
        "remind you 15 minutes before.",
    ),
    "appointments.confirmed_staff": _both(
        "Termin {id} ({conversation}, {when}) ist bestätigt.",
        "Appointment {id} ({conversation}, {when_en}) is confirmed.",
    ),
    "appointments.confirmed_staff_closed": _both(
        "Termin {id} ({conversation}, {when}) ist bestätigt, nach dem Ende des Gesprächs. "
        "Ich bleibe für die Erinnerungen im Raum; absagen mit „!appointment cancel {id}“.",
        "Appointment {id} ({conversation}, {when_en}) is confirmed, after the conversation "
        "ended. I stay in the room for the reminders; cancel with \"!appointment cancel "
        "{id}\".",
    ),
    "appointments.which_answer": _both(
        "Ein Terminvorschlag ist noch offen: {when} ({minutes} Min.). Galt dein „ja“ oder "
        "„nein“ ihm? Dann schreib „Termin ja“ oder „Termin nein“. Sonst antwortest du damit "
        "nur deiner Beraterin oder deinem Berater.",
        "A suggested appointment is still open: {when_en} ({minutes} min). Was your \"yes\" or "
        "\"no\" about it? Then write \"appointment yes\" or \"appointment no\". Otherwise "
        "it only answers your counsellor.",
    ),
    "appointments.declined": _both(
        "Okay, dann nicht zu dieser Zeit. Deine Beraterin oder dein Berater schlägt dir eine "
        "andere vor.",
        "Okay, not at that time then. Your counsellor will suggest another one.",
    ),
    "appointments.declined_closed": _both(
        "Okay, dann nicht zu dieser Zeit. Wenn du einen anderen Termin möchtest, starte "
        "einfach einen neuen Chat mit mir.",
        "Okay, not at that time then. If you'd like another time, just start a new chat "
        "with me.",
    ),
    "appointments.declined_staff": _both(
        "Termin {id} ({conversation}, {when}) passt der Person nicht; bitte eine andere Zeit "
        "vorschlagen.",
        "Appointment {id} ({conversation}, {when_en}) does not suit the person; please suggest "
        "another time.",
    ),
    "appointments.declined_staff_closed": _both(
        "Termin {id} ({conversation}, {when}) passt der Person nicht. Das Gespräch war "
        "schon beendet; sie weiß, dass sie für einen neuen Termin einen neuen Chat beginnt.",
        "Appointment {id} ({conversation}, {when_en}) does not suit the person. The "
        "conversation had ended; they know to start a new chat for another time.",
    ),
    "appointments.expired": _both(
        "Die vorgeschlagene Zeit ({when}) ist schon vorbei. Deine Beraterin oder dein Berater "
        "schlägt dir eine neue vor.",
        "The suggested time ({when_en}) has passed. Your counsellor will suggest a new one.",
    ),
    "appointments.expired_closed": _both(
        "Die vorgeschlagene Zeit ({when}) ist schon vorbei. Wenn du einen neuen Termin "
        "möchtest, starte einfach einen neuen Chat mit mir.",
        "The suggested time ({when_en}) has passed. If you'd like a new one, just start a new "
        "chat with me.",
    ),
    "appointments.expired_staff": _both(
        "Termin {id} ({conversation}, {when}): Die Person hat erst nach der Zeit zugesagt; "
        "ihr ist gesagt, dass du eine neue vorschlägst. Bitte eine andere Zeit vorschlagen.",
        "Appointment {id} ({conversation}, {when_en}): the person said yes only after the time; "
        "they were told you will suggest a new one. Please suggest another time.",
    ),
    "appointments.expired_staff_closed": _both(
        "Termin {id} ({conversation}, {when}): Die Person hat erst nach der Zeit zugesagt. "
        "Das Gespräch war schon beendet; sie weiß, dass sie für einen neuen Termin einen "
        "neuen Chat beginnt.",
        "Appointment {id} ({conversation}, {when_en}): the person said yes only after the "
        "time. The conversation had ended; they know to start a new chat for another time.",
    ),
    "appointments.cancelled": _both(
        "Der Termin am {when} fällt leider aus. Du kannst hier jederzeit weiterschreiben.",
        "Sorry, the appointment on {when_en} is cancelled. You can keep writing here anytime.",
    ),
    "appointments.cancelled_closed": _both(
        "Der Termin am {when} fällt leider aus. Wenn du wieder reden oder einen neuen Termin "
        "möchtest, starte einfach einen neuen Chat mit mir.",
        "Sorry, the appointment on {when_en} is cancelled. If you want to talk again or would "
        "like a new appointment, just start a new chat with me.",
    ),
    "appointments.cancelled_staff": _both(
        "Termin {id} ({when}) abgesagt; die Person ist informiert.",
        "Appointment {id} ({when_en}) cancelled; the person has been told.",
    ),
    "appointments.cancelled_erased": _both(
        "Termin {id} ({conversation}, {when}) fällt aus: Die Person hat ihr Gespräch "
        "gelöscht.",
        "Appointment {id} ({conversation}, {when_en}) is off: the person deleted their "
        "conversation.",
    ),
    "appointments.counsellor_gone": _both(
        "Termin {id} ({conversation}, {when}, {minutes} Min., {kind}) war mit {counsellor}, "
        "die oder der nicht mehr im Team ist. Die Person rechnet weiter mit dem Termin: "
        "Bitte übernehmt ihn (Erinnerungen und Link kommen jetzt an die Teamleitung) oder "
        "sagt ihn mit „!appointment cancel {id}“ ab.",
        "Appointment {id} ({conversation}, {when_en}, {minutes} min, {kind}) was with "
        "{counsellor}, who is no longer on the team. The person still expects it: please "
        "take it over (its reminders and link now go to the team lead) or cancel it with "
        "\"!appointment cancel {id}\".",
    ),
    "appointments.taken_over": _both(
        "{conversation} hat einen Termin mit {counsellor}: {id}, {when}, {minutes} Min., "
        "{kind} ({status}). Er bleibt bei {counsellor}; bitte schlag keinen zur selben Zeit "
        "vor und sprich Änderungen mit {counsellor} ab.",
        "{conversation} has an appointment with {counsellor}: {id}, {when_en}, {minutes} min, "
        "{kind} ({status}). It stays with {counsellor}; please do not propose one at the "
        "same time, and agree any change with {counsellor}.",
    ),
    "appointments.youth_left": _both(
        "Termin {id} ({conversation}, {when}): Die Person hat den Chatraum verlassen. Der "
        "Termin steht (sie hat die Kalenderdatei), aber Erinnerungen und ein Video-Link im "
        "Chat erreichen sie nicht mehr. Absagen mit „!appointment cancel {id}“.",
        "Appointment {id} ({conversation}, {when_en}): the person left the chat room. The "
        "appointment stands (they have the calendar file), but reminders and a video link in "
        "the chat no longer reach them. Cancel with \"!appointment cancel {id}\".",
    ),
    "appointments.youth_left_proposal": _both(
        "Vorschlag {id} ({conversation}, {when}) ist hinfällig: Die Person hat den Chatraum "
        "verlassen, ohne zu antworten, und kann dort nicht mehr zusagen.",
        "Proposal {id} ({conversation}, {when_en}) is off: the person left the chat room "
        "without answering and can no longer accept it there.",
    ),
    "appointments.reminder_day_before": _both(
        "Erinnerung: Morgen, {when}, ist dein Termin ({minutes} Min.).",
        "Reminder: your appointment is tomorrow, {when_en} ({minutes} min).",
    ),
    "appointments.reminder_today": _both(
        "Erinnerung: Heute, {when}, ist dein Termin ({minutes} Min.).",
        "Reminder: your appointment is today, {when} ({minutes} min).",
    ),
    "appointments.reminder_soon": _both(
        "Gleich geht's los: Dein Termin beginnt um {when}.",
        "Starting soon: your appointment begins at {when_en}.",
    ),
    "appointments.reminder_begun": _both(
        "Dein Termin hat um {when} begonnen. Du kannst noch dazukommen.",
        "Your appointment began at {when_en}. You can still join.",
    ),
    "appointments.missed_video": _both(
        "Es tut uns leid: Dein Videogespräch am {when} hat wegen einer technischen Störung "
        "bei uns nicht stattgefunden, und der Link kam nicht. Das lag nicht an dir. Deine "
        "Beraterin oder dein Berater meldet sich bei dir für eine neue Zeit.",
        "We are sorry: your video call on {when} did not take place because of a technical "
        "fault on our side, and the link never came. It was not your fault. Your counsellor "
        "will get in touch with you about a new time.",
    ),
    "appointments.missed_staff": _both(
        "Termin {id} ({conversation}, {when}, Video) ist ausgefallen: Der Bot lief zu der "
        "Zeit nicht, der Anruf wurde nicht geöffnet und die Person bekam keinen Link. Ihr "
        "ist gesagt, dass du dich für eine neue Zeit meldest: bitte eine vorschlagen.",
        "Appointment {id} ({conversation}, {when}, video) did not happen: the bot was not "
        "running then, the call was never opened and the person got no link. They were told "
        "you will get in touch about a new time: please suggest one.",
    ),
    "appointments.reminder_staff_day_before": _both(
        "Morgen: Termin {id} mit {conversation}, {when}, {minutes} Min.",
        "Tomorrow: appointment {id} with {conversation}, {when_en}, {minutes} min.",
    ),
    "appointments.reminder_staff_today": _both(
        "Heute: Termin {id} mit {conversation}, {when}, {minutes} Min. (Die Erinnerung vom "
        "Vortag kommt spät.)",
        "Today: appointment {id} with {conversation}, {when}, {minutes} min (the day-before "
        "reminder comes late).",
    ),
    "appointments.reminder_staff_soon": _both(
        "In 15 Minuten: Termin {id} mit {conversation} ({when}).",
        "In 15 minutes: appointment {id} with {conversation} ({when_en}).",
    ),
    # An appointment's call due while the chat's own call is live (`appointment_calls.py`).
    "video.appointment_waits": _both(
        "Termin {id} mit {conversation}: Im Chat läuft gerade ein Videoanruf. Er wird nicht "
        "unterbrochen; der Anruf für den Termin beginnt, sobald er vorbei ist (mit „!video "
        "end“, bei einer Übergabe oder wenn seine Links ablaufen), solange der Termin noch "
        "läuft.",
        "Appointment {id} with {conversation}: a video call is open in the chat. It is not cut "
        "off; the appointment's call starts once it is over (with \"!video end\", at a "
        "hand-over or when its links run out), while the appointment still runs.",
    ),
    "video.appointment_running": _both(
        "Im Raum läuft gerade der Videoanruf eines Termins mit {host}; ein neuer Anruf oder "
        "„!video end“ würde ihn mitten im Termin abbrechen. Er endet mit dem Termin; danach "
        "kannst du einen eigenen starten.",
        "The room shows the video call of an appointment with {host}, running now; a new "
        "call or \"!video end\" would cut it off mid-appointment. It ends with the "
        "appointment; then you can start your own.",
    ),
    "video.appointment_in_call": _both(
        "Termin {id} mit {conversation}: Der Videoanruf, der gerade im Chat läuft, ist der "
        "Anruf für den Termin; es kommt kein neuer Link. Er bleibt auch bei einer Übergabe "
        "des Chats offen, bis der Termin vorbei ist.",
        "Appointment {id} with {conversation}: the video call open in the chat now is the "
        "appointment's call; no new link comes. It stays open at a hand-over of the chat too, "
        "until the appointment is over.",
    ),
    "appointments.reminder_staff_begun": _both(
        "Hat begonnen: Termin {id} mit {conversation} ({when}); diese Erinnerung kommt spät.",
        "Has begun: appointment {id} with {conversation} ({when_en}); this reminder is late.",
    ),
    "appointments.list": _both("Deine Termine:\n{lines}", "Your appointments:\n{lines}"),
    "appointments.none": _both("Du hast keine anstehenden Termine.",
                               "You have no upcoming appointments."),
    "appointments.unknown": _both(
        "Einen offenen Termin {id} gibt es nicht; „!appointments“ zeigt deine.",
        "There is no open appointment {id}; \"!appointments\" lists yours.",
    ),
    "appointments.not_yours": _both(
        "Termin {id} ist nicht deiner; absagen können ihn die Person, die ihn vorgeschlagen "
        "hat, und die Teamleitung.",
        "Appointment {id} is not yours; whoever proposed it and team leads can cancel it.",
    ),
    "appointments.which": _both(
        "Für welches Gespräch? Im Raum der Person schreiben, oder im Teamraum mit Nummer: "
        "„!appointment C-XXXXXXXX 2026-12-10 16:00 45min video“.",
        "For which conversation? Write it in the person's room, or in the staff room with "
        "the id: \"!appointment C-XXXXXXXX 2026-12-10 16:00 45min video\".",
    ),
    "appointments.bad_date": _both(
        "„{given}“ ist kein gültiges Datum mit Uhrzeit. Schreib es so: 2026-12-10 16:00.",
        "\"{given}\" is not a valid date and time. Write it like this: 2026-12-10 16:00.",
    ),
    "appointments.clock_change": _both(
        "„{given}“: Am {day} wird die Uhr umgestellt, um {from} auf {to}. Die Zeit zwischen "
        "{early} und {late} gibt es an dem Tag nicht oder zweimal, und die Person wüsste "
        "nicht, wann sie kommen soll. Bitte eine Zeit vor {early} oder ab {late} wählen.",
        "\"{given}\": the clocks change on {day}, at {from} to {to}. The time between {early} "
        "and {late} does not exist that day or comes twice, and the person would not know "
        "when to come. Please pick a time before {early} or from {late}.",
    ),
    "appointments.bad_duration": _both(
        "Ein Termin dauert {min} bis {max} Minuten, z. B. „45min“.",
        "An appointment lasts {min} to {max} minutes, e.g. \"45min\".",
    ),
    "appointments.past": _both(
        "{when} ist schon vorbei. Bitte eine Zeit in der Zukunft vorschlagen.",
        "{when_en} has already passed. Please suggest a time in the future.",
    ),
    "appointments.too_far": _both(
        "{when} ist mehr als ein Jahr entfernt. Bitte eine nähere Zeit vorschlagen.",
        "{when_en} is more than a year away. Please suggest a nearer time.",
    ),
    "appointments.closed": _both(
        "{when}: Der Termin läge (ganz oder teilweise) außerhalb der Öffnungszeiten. Bitte "
        "eine Zeit wählen, in der die Beratungsstelle geöffnet ist.",
        "{when_en}: the appointment would be (wholly or partly) outside the opening hours. "
        "Please pick a time when the office is open.",
    ),
    "appointments.closed_office": _both(
        "{when}: Der Termin läge (ganz oder teilweise) außerhalb der Öffnungszeiten von "
        "{office} ({hours_de}). Bitte eine Zeit wählen, in der diese Beratungsstelle "
        "geöffnet ist.",
        "{when_en}: the appointment would be (wholly or partly) outside the opening hours of "
        "{office} ({hours_en}). Please pick a time when this office is open.",
    ),
    "appointments.clash": _both(
        "Das überschneidet sich mit deinem Termin {other} am {when} ({minutes} Min.). Bitte "
        "eine andere Zeit wählen oder den anderen Termin absagen.",
        "That overlaps your appointment {other} on {when_en} ({minutes} min). Please pick "
        "another time or cancel the other appointment.",
    ),
    "appointments.clash_conversation": _both(
        "Das überschneidet sich mit Termin {other} dieses Gesprächs am {when} ({minutes} "
        "Min.), den jemand anderes aus dem Team mit der Person ausgemacht hat. Bitte eine "
        "andere Zeit wählen, oder mit der Leitung klären, wer den Termin hält.",
        "That overlaps appointment {other} of this conversation on {when_en} ({minutes} min), "
        "which someone else on the team arranged with the person. Please pick another time, "
        "or settle with the team lead who keeps it.",
    ),
    "appointments.no_address": _both(
        "Für Termine vor Ort fehlt die Adresse der Beratungsstelle in der Konfiguration "
        "(appointments.office_address). Bitte die Administration fragen.",
        "In-person appointments need the office's address in the configuration "
        "(appointments.office_address). Please ask the administrator.",
    ),
    "appointments.no_phone": _both(
        "Für Telefontermine fehlt die Telefonnummer der Beratungsstelle in der Konfiguration "
        "(appointments.office_phone). Bitte die Administration fragen.",
        "Phone appointments need the office's number in the configuration "
        "(appointments.office_phone). Please ask the administrator.",
    ),
    "appointments.no_address_office": _both(
        "Für Termine vor Ort fehlt die Adresse der Beratungsstelle {office} in der "
        "Konfiguration (address in ihrem [[offices]]-Eintrag, oder [appointments] "
        "office_address für alle). Bitte die Administration fragen.",
        "In-person appointments need the address of the office {office} in the configuration "
        "(address in its [[offices]] table, or [appointments] office_address for all). "
        "Please ask the administrator.",
    ),
    "appointments.no_phone_office": _both(
        "Für Telefontermine fehlt die Telefonnummer der Beratungsstelle {office} in der "
        "Konfiguration (phone in ihrem [[offices]]-Eintrag, oder [appointments] "
        "office_phone für alle). Bitte die Administration fragen.",
        "Phone appointments need the number of the office {office} in the configuration "
        "(phone in its [[offices]] table, or [appointments] office_phone for all). Please "
        "ask the administrator.",
    ),
    "appointments.no_video": _both(
        "Video ist in dieser Beratungsstelle nicht eingerichtet (video.base_url); bitte vor "
        "Ort oder Telefon vorschlagen.",
        "Video is not set up for this office (video.base_url); please propose in person or "
        "phone.",
    ),
    "appointments.mail": _both(
        "Mail ist in dieser Installation ausgeschaltet ([mail] enabled): Ein Terminvorschlag "
        "würde die Person nicht erreichen. Lade sie mit „!chat“ in den Chat ein, sobald Mail "
        "wieder an ist.",
        "Mail is switched off in this installation ([mail] enabled): an appointment would not "
        "reach the person. Invite them to chat with \"!chat\" once mail is on again.",
    ),
    # By mail to a mail youth: the same steps, worded for a mail program.
    "appointments.mail.proposed_inperson": _both(
        "Hallo,\n\nich schlage dir einen Termin vor Ort vor: {when} ({minutes} Min.) in "
        "unserer Beratungsstelle, {address}. Du musst uns dafür keinen Namen und keine "
        "Adresse sagen.\n\nPasst das? Antworte auf diese Mail und schreib in die erste "
        "Zeile nur „ja“ oder „nein“ (bei „nein“ schlage ich dir eine andere Zeit vor).",
        "Hello,\n\nI suggest meeting in person: {when_en} ({minutes} min) at our office, "
        "{address}. You don't have to tell us your name or address.\n\nDoes that work? "
        "Reply to this mail with just \"yes\" or \"no\" in the first line (after \"no\" "
        "I will suggest another time).",
    ),
    "appointments.mail.proposed_phone": _both(
        "Hallo,\n\nich schlage dir ein Telefongespräch vor: {when} ({minutes} Min.). Du "
        "rufst uns dann an: {phone} (du kannst deine Nummer unterdrücken).\n\nPasst das? "
        "Antworte auf diese Mail und schreib in die erste Zeile nur „ja“ oder „nein“ (bei "
        "„nein“ schlage ich dir eine andere Zeit vor).",
        "Hello,\n\nI suggest a phone call: {when_en} ({minutes} min). You call us then: {phone} "
        "(you can hide your number).\n\nDoes that work? Reply to this mail with just \"yes\" "
        "or \"no\" in the first line (after \"no\" I will suggest another time).",
    ),
    "appointments.mail.proposed_video": _both(
        "Hallo,\n\nich schlage dir ein Videogespräch vor: {when} ({minutes} Min.). Den Link "
        "bekommst du 15 Minuten vorher per Mail.\n\nPasst das? Antworte auf diese Mail und "
        "schreib in die erste Zeile nur „ja“ oder „nein“ (bei „nein“ schlage ich dir eine "
        "andere Zeit vor).",
        "Hello,\n\nI suggest a video call: {when_en} ({minutes} min). You get the link by mail "
        "15 minutes before.\n\nDoes that work? Reply to this mail with just \"yes\" or "
        "\"no\" in the first line (after \"no\" I will suggest another time).",
    ),
    "appointments.mail.confirmed": _both(
        "Super, der Termin steht: {when} ({minutes} Min.). Im Anhang ist er als "
        "Kalenderdatei (termin-….ics), die du in deinen Kalender übernehmen kannst. Ich "
        "erinnere dich am Tag vorher und 15 Minuten vorher per Mail.",
        "Great, it's a date: {when_en} ({minutes} min). It is attached as a calendar file "
        "(termin-….ics) you can add to your calendar. I will remind you by mail the day "
        "before and 15 minutes before.",
    ),
    "appointments.mail.confirmed_soon": _both(
        "Super, der Termin steht: {when} ({minutes} Min.). Im Anhang ist er als "
        "Kalenderdatei (termin-….ics), die du in deinen Kalender übernehmen kannst. Ich "
        "erinnere dich 15 Minuten vorher per Mail.",
        "Great, it's a date: {when_en} ({minutes} min). It is attached as a calendar file "
        "(termin-….ics) you can add to your calendar. I will remind you by mail 15 minutes "
        "before.",
    ),
    "appointments.mail.declined": _both(
        "Okay, dann nicht zu dieser Zeit. Ich schlage dir eine andere vor.",
        "Okay, not at that time then. I will suggest another one.",
    ),
    "appointments.mail.declined_closed": _both(
        "Okay, dann nicht zu dieser Zeit. Wenn du einen anderen Termin möchtest, schreib "
        "uns einfach eine neue Mail.",
        "Okay, not at that time then. If you'd like another time, just write us a new mail.",
    ),
    "appointments.mail.expired": _both(
        "Die vorgeschlagene Zeit ({when}) ist schon vorbei. Ich schlage dir eine neue vor.",
        "The suggested time ({when_en}) has passed. I will suggest a new one.",
    ),
    "appointments.mail.expired_closed": _both(
        "Die vorgeschlagene Zeit ({when}) ist schon vorbei. Wenn du einen neuen Termin "
        "möchtest, schreib uns einfach eine neue Mail.",
        "The suggested time ({when_en}) has passed. If you'd like a new one, just write us a "
        "new mail.",
    ),
    "appointments.mail.cancelled": _both(
        "Der Termin am {when} fällt leider aus. Du kannst uns jederzeit weiter schreiben.",
        "Sorry, the appointment on {when_en} is cancelled. You can keep writing to us anytime.",
    ),
    "appointments.mail.cancelled_file": _both(
        "Der Termin am {when} fällt leider aus. Wenn du ihn in deinen Kalender übernommen "
        "hast: Die Datei im Anhang markiert ihn dort als abgesagt. Du kannst uns jederzeit "
        "weiter schreiben.",
        "Sorry, the appointment on {when_en} is cancelled. If you added it to your calendar, the "
        "attached file marks it as cancelled there. You can keep writing to us anytime.",
    ),
    "appointments.mail.reminder_day_before": _both(
        "Erinnerung: Morgen, {when}, ist dein Termin ({minutes} Min.).",
        "Reminder: your appointment is tomorrow, {when_en} ({minutes} min).",
    ),
    "appointments.mail.reminder_today": _both(
        "Erinnerung: Heute, {when}, ist dein Termin ({minutes} Min.).",
        "Reminder: your appointment is today, {when} ({minutes} min).",
    ),
    "appointments.mail.missed_video": _both(
        "Es tut uns leid: Dein Videogespräch am {when} hat wegen einer technischen Störung "
        "bei uns nicht stattgefunden, und der Link kam nicht. Das lag nicht an dir. Deine "
        "Beraterin oder dein Berater schreibt dir wegen einer neuen Zeit.",
        "We are sorry: your video call on {when} did not take place because of a technical "
        "fault on our side, and the link never came. It was not your fault. Your counsellor "
        "will write to you about a new time.",
    ),
    "appointments.mail.reminder_soon": _both(
        "Gleich geht's los: Dein Termin beginnt um {when}.",
        "Starting soon: your appointment begins at {when_en}.",
    ),
    "appointments.mail.reminder_begun": _both(
        "Dein Termin hat um {when} begonnen. Du kannst noch dazukommen.",
        "Your appointment began at {when_en}. You can still join.",
    ),
    "appointments.mail.reminder_soon_video": _both(
        "Gleich geht's los: Dein Videogespräch beginnt um {when}. Hier ist der Link: {url}\n"
        "Der Link ist nur für dich; du musst deinen Namen nicht angeben.",
        "Starting soon: your video call begins at {when_en}. Here is the link: {url}\n"
        "The link is just for you; you don't need to give your name.",
    ),
    "appointments.mail.reminder_begun_video": _both(
        "Dein Videogespräch hat um {when} begonnen. Du kannst noch dazukommen, hier ist der "
        "Link: {url}\nDer Link ist nur für dich; du musst deinen Namen nicht angeben.",
        "Your video call began at {when_en}. You can still join, here is the link: {url}\n"
        "The link is just for you; you don't need to give your name.",
    ),
}
