"""What the bot says about group sessions and the forum (merged into `core/messages.py`).

Plain language for readers who may be 12. Youths never read another youth's Matrix id here:
groups and posts name people by their per-group nickname only.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["de", "en"]


def _both(de: str, en: str) -> dict[Lang, str]:
    return {"de": de, "en": en}


TEXTS: dict[str, dict[Lang, str]] = {
    # -- refusals ----------------------------------------------------------------------------
    "group.unknown": _both(
        "Die Gruppe {number} gibt es nicht. Schreib „gruppe“, dann siehst du alle Gruppen.",
        "There is no group {number}. Write \"group\" to see all groups.",
    ),
    "group.in_past": _both(
        "Dieser Zeitpunkt ist schon vorbei. Bitte gib ein Datum in der Zukunft an.",
        "That time has passed. Please give a date in the future.",
    ),
    "group.too_far": _both(
        "Gruppen lassen sich höchstens ein Jahr im Voraus ankündigen.",
        "Groups can be announced at most a year ahead.",
    ),
    "group.bad_duration": _both(
        "Eine Gruppe dauert 15 bis {longest} Minuten, z. B. „90min“.",
        "A group lasts 15 to {longest} minutes, e.g. \"90min\".",
    ),
    "group.bad_seats": _both(
        "Eine Gruppe hat 2 bis {most} Plätze, z. B. „max 8“.",
        "A group has 2 to {most} seats, e.g. \"max 8\".",
    ),
    "group.bad_topic": _both(
        "Das Thema fehlt oder ist länger als {most} Zeichen. Setz es in Anführungszeichen.",
        "The topic is missing or longer than {most} characters. Put it in quotes.",
    ),
    "group.parse_topic": _both(
        "Das Thema braucht Anführungszeichen am Anfang und Ende. So geht es: {hint}",
        "The topic needs quotes at both ends. Like this: {hint}",
    ),
    "group.parse_date": _both(
        "Datum oder Uhrzeit verstehe ich nicht (JJJJ-MM-TT HH:MM). So geht es: {hint}",
        "I do not understand the date or time (YYYY-MM-DD HH:MM). Like this: {hint}",
    ),
    "group.parse_duration": _both(
        "Die Dauer verstehe ich nicht (z. B. „90min“). So geht es: {hint}",
        "I do not understand the duration (e.g. \"90min\"). Like this: {hint}",
    ),
    "group.removed": _both(
        "Bei der Gruppe {number} kannst du nicht mehr mitmachen. Wenn du reden möchtest, "
        "schreib einfach hier – eine Beraterin oder ein Berater ist für dich da.",
        "You cannot take part in group {number} any more. If you want to talk, just write "
        "here – a counsellor is there for you.",
    ),
    "group.over": _both(
        "Die Gruppe {number} ist schon vorbei. Schreib „gruppe“ für die nächsten Termine.",
        "Group {number} is over. Write \"group\" for the next dates.",
    ),
    "group.full": _both(
        "Die Gruppe {number} ist leider schon voll. Schreib „gruppe“ für andere Termine.",
        "Sorry, group {number} is full. Write \"group\" for other dates.",
    ),
    "group.not_host": _both(
        "Das darf nur die Person, die Gruppe {number} leitet, oder eine Teamleitung.",
        "Only the counsellor hosting group {number} or a team lead may do that.",
    ),
    "group.not_open": _both(
        "Gruppe {number} läuft gerade nicht.", "Group {number} is not running now.",
    ),
    "group.no_such_nickname": _both(
        "In Gruppe {number} gibt es niemanden mit diesem Namen. Schreib den Spitznamen, den "
        "Namen, den die Person im Gruppenraum zeigt, oder die Kennung ihres Kontos (@…).",
        "Nobody in group {number} has that name. Write the nickname, the name the person shows "
        "in the group's room, or their account's id (@…).",
    ),
    "group.name_ambiguous": _both(
        "In Gruppe {number} passt dieser Name auf mehr als eine Person: Jemand zeigt den "
        "Namen eines anderen. Schreib die Kennung des Kontos (@…), die dir ein Klick auf den "
        "Namen zeigt.",
        "In group {number} that name fits more than one person: somebody shows another's "
        "name. Write the account's id (@…) that a click on the name shows you.",
    ),
    "group.already_ended": _both(
        "Gruppe {number} ist schon beendet.", "Group {number} has already ended.",
    ),
    # -- staff -------------------------------------------------------------------------------
    "group.announced": _both(
        "Gruppe {number} angekündigt: „{topic}“ am {start}, {minutes} Minuten, "
        "höchstens {max} Jugendliche. Leitung: {host}.",
        "Group {number} announced: \"{topic}\" on {start_en}, {minutes} minutes, at most {max} "
        "youths. Host: {host}.",
    ),
    "group.list_staff": _both("Gruppen:\n{lines}", "Groups:\n{lines}"),
    "group.none": _both("Es sind keine Gruppen geplant.", "No groups are planned."),
    # Where a message reported with an app's "Report" was, for the staff ("Meldung aus ...").
    "group.report_place": _both("Gruppe {number}", "group {number}"),
    "forum.report_place": _both("dem Forum", "the forum"),
    # The host's confirmation, in the staff room: the youths in the group do not read who
    # was silenced or removed.
    "group.moderated_mute": _both(
        "Gruppe {number}: {nickname} kann jetzt nicht mehr schreiben, bis du es im "
        "Gruppenraum wieder erlaubst.",
        "Group {number}: {nickname} cannot write any more until you allow it again in the "
        "group's room.",
    ),
    "group.moderated_unmute": _both(
        "Gruppe {number}: {nickname} kann wieder schreiben.",
        "Group {number}: {nickname} can write again.",
    ),
    "group.moderated_remove": _both(
        "Gruppe {number}: {nickname} ist nicht mehr in der Gruppe und kann nicht wieder "
        "hinein; ich habe {nickname} im eigenen Chat gesagt, dass dort jemand zum Reden da "
        "ist.",
        "Group {number}: {nickname} is out of the group and cannot come back; I told "
        "{nickname} in their own chat that somebody is there to talk to.",
    ),
    "group.staff_crisis_alert": _both(
        "⚠️ Krisenhinweis in Gruppe {number} bei {nickname}. Ich habe {nickname} privat ein "
        "Einzelgespräch angeboten; in der Gruppe wurde niemand genannt. {leads}: Bitte "
        "kümmert euch um das Einzelgespräch, die Gruppe wird weiter moderiert.",
        "⚠️ Crisis flag in group {number} for {nickname}. I offered {nickname} a private 1:1 "
        "conversation; nobody was named in the group. {leads}: please look after the 1:1, "
        "the group is still being moderated.",
    ),
    "group.staff_crisis_alert_counselled": _both(
        "⚠️ Krisenhinweis in Gruppe {number} bei {nickname}. {nickname} ist gerade im "
        "Einzelgespräch {conversation}: Der Hinweis steht dort, die Beratung dort ist "
        "benachrichtigt. In der Gruppe wurde niemand genannt. {leads}: zur Info, die Gruppe "
        "wird weiter moderiert.",
        "⚠️ Crisis flag in group {number} for {nickname}. {nickname} is in the 1:1 "
        "conversation {conversation} right now: the flag is set there and its counsellor "
        "told. Nobody was named in the group. {leads}: for your information, the group is "
        "still being moderated.",
    ),
    "group.staff_opened": _both(
        "Gruppe {number} ist offen ({seats} angemeldet).",
        "Group {number} is open ({seats} signed up).",
    ),
    "group.host_left": _both(
        "⚠️ {host} hat den Raum von Gruppe {number} verlassen; die Jugendlichen sind dort "
        "jetzt unter sich. Ich habe {host} wieder eingeladen. {leads}: Bitte sorgt dafür, "
        "dass jemand moderiert („!group join {number}“ lädt euch in den Raum ein), oder "
        "beendet die Gruppe mit „!group end {number}“.",
        "⚠️ {host} left the room of group {number}; the youths are on their own there now. "
        "I have invited {host} back. {leads}: please make sure somebody moderates "
        "(\"!group join {number}\" invites you into the room), or end the group with "
        "\"!group end {number}\".",
    ),
    "group.host_missing": _both(
        "⚠️ Gruppe {number} läuft seit einigen Minuten, aber {host} ist noch nicht im "
        "Gruppenraum; die Jugendlichen sind dort unter sich. {host}: bitte nimm die "
        "Einladung an. {leads}: Bitte sorgt dafür, dass jemand moderiert („!group join "
        "{number}“ lädt euch in den Raum ein), oder beendet die Gruppe mit „!group end "
        "{number}“.",
        "⚠️ Group {number} started some minutes ago, but {host} is not in its room yet; the "
        "youths are on their own there. {host}: please accept the invitation. {leads}: "
        "please make sure somebody moderates (\"!group join {number}\" invites you into the "
        "room), or end the group with \"!group end {number}\".",
    ),
    "group.joining": _both(
        "Ich habe dich in den Raum von Gruppe {number} eingeladen. Dort moderierst du mit "
        "„!mute NAME“, „!unmute NAME“, „!remove NAME“ und „!end“.",
        "I have invited you into the room of group {number}. There you moderate with "
        "\"!mute NAME\", \"!unmute NAME\", \"!remove NAME\" and \"!end\".",
    ),
    # -- youths ------------------------------------------------------------------------------
    "group.list_youth": _both(
        "Diese Gruppen kommen als Nächstes:\n{lines}\nMitmachen: schreib „gruppe“ und die "
        "Nummer, z. B. „gruppe 1“. In der Gruppe heißt du anders als hier, nur mit einem "
        "Spitznamen.",
        "These groups are coming up:\n{lines}\nTo join, write \"group\" and the number, e.g. "
        "\"group 1\". In the group you have a different nickname.",
    ),
    "group.seats_free": _both("{count} frei", "{count} seats free"),
    "group.none_youth": _both(
        "Gerade ist keine Gruppe geplant. Schau gern später wieder vorbei!",
        "No group is planned right now. Have a look again later!",
    ),
    "group.signed_up": _both(
        "Du bist dabei: Gruppe {number}, „{topic}“, am {start}. In der Gruppe heißt du "
        "„{nickname}“. Zu Beginn lade ich dich in einen verschlüsselten Gruppenraum ein.\n"
        "Wichtig: Die anderen in der Gruppe können die Kennung deines Kontos sehen. Nutze am "
        "besten das anonyme Konto von unserer Startseite.",
        "You are in: group {number}, \"{topic}\", on {start_en}. In the group your name is "
        "\"{nickname}\". When it starts, I will invite you to an encrypted group room.\n"
        "Important: the others in the group can see your account's id. Best use the anonymous "
        "account from our start page.",
    ),
    "group.already_signed": _both(
        "Du bist schon bei Gruppe {number} angemeldet, als „{nickname}“.",
        "You are already signed up for group {number}, as \"{nickname}\".",
    ),
    "group.invited": _both(
        "Gruppe {number} beginnt! Ich habe dich eingeladen – nimm die Einladung an. "
        "Dein Name dort: „{nickname}“.",
        "Group {number} is starting! I have invited you – please accept the invitation. "
        "Your name there: \"{nickname}\".",
    ),
    "group.invited_again": _both(
        "Du bist in Gruppe {number} dabei, als „{nickname}“. Ich habe dich noch einmal in "
        "den Gruppenraum eingeladen – nimm die Einladung an. Bist du schon drin, ist alles "
        "gut.",
        "You are in group {number}, as \"{nickname}\". I have invited you to the group room "
        "again – please accept the invitation. If you are in already, all is well.",
    ),
    "group.room_welcome": _both(
        "Willkommen in der Gruppe „{topic}“! Hier seid ihr nur mit Spitznamen. Seid "
        "freundlich zueinander, und erzählt nichts, woran man euch erkennen kann. Die "
        "Gruppe endet nach {minutes} Minuten; danach wird der Raum gelöscht.",
        "Welcome to the group \"{topic}\"! Here you only use nicknames. Be kind to each other, "
        "and share nothing that could identify you. The group ends after {minutes} minutes; "
        "then the room is deleted.",
    ),
    # Without the bot's admin access the room is never deleted (`GroupRooms._purge`):
    # everyone is taken out at the end, and the room stays to the homeserver's retention.
    "group.room_welcome_kept": _both(
        "Willkommen in der Gruppe „{topic}“! Hier seid ihr nur mit Spitznamen. Seid "
        "freundlich zueinander, und erzählt nichts, woran man euch erkennen kann. Die "
        "Gruppe endet nach {minutes} Minuten; danach schließe ich den Raum.",
        "Welcome to the group \"{topic}\"! Here you only use nicknames. Be kind to each other, "
        "and share nothing that could identify you. The group ends after {minutes} minutes; "
        "then I close the room.",
    ),
    "group.you_were_removed": _both(
        "Du bist nicht mehr in Gruppe {number}. Wenn dich etwas beschäftigt, schreib einfach "
        "hier – eine Beraterin oder ein Berater ist für dich da.",
        "You are no longer in group {number}. If something is on your mind, just write here "
        "– a counsellor is there for you.",
    ),
    "group.ended_room": _both(
        "Die Gruppe ist jetzt zu Ende. Danke fürs Mitmachen! Der Raum wird gleich gelöscht. "
        "Wenn du reden möchtest, schreib mir in deinem eigenen Chat.",
        "The group has ended. Thank you for taking part! The room will be deleted soon. If "
        "you want to talk, write to me in your own chat.",
    ),
    "group.ended_room_kept": _both(
        "Die Gruppe ist jetzt zu Ende. Danke fürs Mitmachen! Ich schließe den Raum gleich. "
        "Wenn du reden möchtest, schreib mir in deinem eigenen Chat.",
        "The group has ended. Thank you for taking part! I will close the room soon. If "
        "you want to talk, write to me in your own chat.",
    ),
    "group.called_off": _both(
        "Schade: Die Gruppe {number} „{topic}“ am {start} fällt leider aus. Schreib "
        "„gruppe“, dann siehst du andere Termine. Wenn du reden möchtest, schreib einfach "
        "hier – eine Beraterin oder ein Berater ist für dich da.",
        "Sorry: group {number}, \"{topic}\" on {start_en}, has been called off. Write \"group\" "
        "to see other dates. If you want to talk, just write here – a counsellor is there "
        "for you.",
    ),
    "group.did_not_open": _both(
        "Die Gruppe {number} „{topic}“ am {start} hat leider nicht stattgefunden – bei uns "
        "hat etwas nicht geklappt, das tut mir leid. Schreib „gruppe“ für die nächsten "
        "Termine. Wenn du reden möchtest, schreib einfach hier – eine Beraterin oder ein "
        "Berater ist für dich da.",
        "Group {number}, \"{topic}\" on {start_en}, did not take place – something went wrong "
        "on our side, I am sorry. Write \"group\" for the next dates. If you want to talk, "
        "just write here – a counsellor is there for you.",
    ),
    "group.crisis_offer": _both(
        "Mir ist in der Gruppe aufgefallen, dass es dir vielleicht gerade nicht gut geht. "
        "Möchtest du allein mit jemandem reden? Schreib einfach hier – eine Beraterin oder "
        "ein Berater kommt zu dir. In der Gruppe sage ich dazu nichts.\n{emergency}",
        "I noticed in the group that you may not be feeling well right now. Would you like "
        "to talk to someone alone? Just write here – a counsellor will come to you. I will "
        "not say anything about it in the group.\n{emergency}",
    ),
    "group.unreadable": _both(
        "Eine Nachricht von dir in Gruppe {number} konnte ich nicht entschlüsseln (dein Gerät "
        "hat mir den Schlüssel nicht geschickt). War sie wichtig, schreib sie bitte noch "
        "einmal – oder schreib sie mir hier, dann liest sie jemand aus dem Team.",
        "I could not decrypt a message of yours in group {number} (your device did not send "
        "me its key). If it mattered, please write it again – or write it to me here, and "
        "someone from the team reads it.",
    ),
    "group.reaction_removed": _both(
        "Deine Reaktion mit Text in Gruppe {number} habe ich gelöscht: Reaktionen werden "
        "nicht verschlüsselt, der Server könnte deine Worte lesen. Schreib sie lieber als "
        "Nachricht in die Gruppe (die ist verschlüsselt) – ein einzelnes Emoji als Reaktion "
        "geht. Geht es dir nicht gut, schreib mir hier, dann kommt jemand aus dem Team.",
        "I deleted your reaction with words in group {number}: reactions are not encrypted, "
        "so the server could read your words. Please write them as a message in the group "
        "instead (that is encrypted) – a single emoji as a reaction is fine. If you are not "
        "feeling well, write to me here, and someone from the team comes.",
    ),
    "group.poses_as_youth": _both(
        "Achtung: Jemand hier nennt sich jetzt wie {other}. Das ist {nickname}, nicht "
        "{other}.",
        "Note: someone here now goes by a name like {other}'s. That is {nickname}, not "
        "{other}.",
    ),
    "group.poses_as_team": _both(
        "Achtung: Jemand hier nennt sich jetzt wie das Team. Das ist {nickname} aus der "
        "Gruppe, nicht das Team. Im Zweifel frag mich in deinem eigenen Chat.",
        "Note: someone here now goes by a name like the team's. That is {nickname} from the "
        "group, not the team. If in doubt, ask me in your own chat.",
    ),
    # -- forum -------------------------------------------------------------------------------
    "forum.usage": _both(
        "So schreibst du ins Forum: „forum THEMA dein Text“. Schreib „forum“, dann siehst "
        "du die Themen.",
        "To post in the forum: \"forum TOPIC your text\". Write \"forum\" to see the topics.",
    ),
    "forum.too_long": _both(
        "Dein Beitrag ist zu lang (höchstens {hint} Zeichen).",
        "Your post is too long (at most {hint} characters).",
    ),
    "forum.unknown_topic": _both(
        "Dieses Forum-Thema gibt es nicht. Die Themen:\n{lines}",
        "There is no such forum topic. The topics:\n{lines}",
    ),
    "forum.list": _both(
        "Forum-Themen:\n{lines}\nZum Lesen: „forum THEMA“. So schreibst du: „forum THEMA "
        "dein Text“. Jemand aus dem Team liest deinen Beitrag, bevor er erscheint – unter "
        "einem Spitznamen.",
        "Forum topics:\n{lines}\nTo read: \"forum TOPIC\". To post: \"forum TOPIC your "
        "text\". Someone from the team reads your post before it appears – under a nickname.",
    ),
    "forum.invited": _both(
        "Ich habe dich in den Forum-Raum „{forum}“ eingeladen. Dort kannst du lesen, was "
        "andere geschrieben haben und was das Team antwortet. Die anderen dort sehen dein "
        "Konto (nicht, was du mir schreibst).",
        "I have invited you to the forum room \"{forum}\". There you can read what others "
        "wrote and what the team answers. The others there see your account (not what you "
        "write to me).",
    ),
    "forum.none": _both("Das Forum ist noch nicht eingerichtet.", "The forum is not set up."),
    "forum.received": _both(
        "Danke! Dein Beitrag wartet jetzt auf die Freigabe durch das Team. Ich sage dir "
        "Bescheid. In den Forum-Raum lade ich dich schon jetzt ein, dort kommen später auch "
        "die Antworten.",
        "Thank you! Your post is waiting for the team to approve it. I will let you know. I "
        "am inviting you to the forum room now; the answers will appear there later.",
    ),
    "forum.withdrawn": _both(
        "Du hast deinen Beitrag gelöscht oder geändert, deshalb ist er zurückgezogen: Er "
        "erscheint nicht im Forum. Wenn du doch etwas posten möchtest, schreib neu "
        "„forum THEMA dein Text“.",
        "You deleted or changed your post, so it is withdrawn: it will not appear in the "
        "forum. If you still want to post something, write \"forum TOPIC your text\" again.",
    ),
    "forum.updated": _both(
        "Deine Änderung ist übernommen: Das Team sieht nur noch die neue Fassung.",
        "Your change is saved: the team now only sees the new version.",
    ),
    "forum.to_counsellor": _both(
        "Das stelle ich nicht ins Forum: Es klingt, als ginge es dir gerade nicht gut. "
        "Jemand aus dem Team liest es hier und antwortet dir hier, nur dir.",
        "I am not putting this into the forum: it sounds as if you may not be doing well "
        "right now. Someone from the team reads it here and answers you here, only you.",
    ),
    "forum.approved_youth": _both(
        "Dein Beitrag ist jetzt im Forum „{forum}“ zu lesen, unter dem Namen „{nickname}“. "
        "Die Antworten kommen im Forum-Raum (nicht mehr eingeladen? Schreib „forum THEMA“).",
        "Your post is now in the forum \"{forum}\", under the name \"{nickname}\". The "
        "answers appear in the forum room (invitation gone? Write \"forum TOPIC\").",
    ),
    "forum.rejected_youth": _both(
        "Danke für deinen Beitrag. Wir haben ihn diesmal nicht ins Forum gestellt. "
        "Grund: {reason}\nDas ist nicht böse gemeint. Wenn du möchtest, schreib hier – "
        "eine Beraterin oder ein Berater ist für dich da.",
        "Thank you for your post. We did not put it in the forum this time. Reason: "
        "{reason}\nThis is nothing against you. If you like, write here – a counsellor is "
        "there for you.",
    ),
    "forum.post": _both("{nickname} schreibt:\n{text}", "{nickname} writes:\n{text}"),
    "forum.pending": _both("Wartende Forum-Beiträge:\n{lines}",
                           "Forum posts waiting:\n{lines}"),
    "forum.pending_none": _both("Keine Forum-Beiträge warten.", "No forum posts are waiting."),
    "forum.staff_new": _both(
        "Neuer Forum-Beitrag {id} wartet auf Freigabe („!forum pending“).",
        "New forum post {id} is waiting for approval (\"!forum pending\").",
    ),
    "forum.staff_withdrawn": _both(
        "Forum-Beitrag {id} ist zurückgezogen: Die Person hat ihn gelöscht oder geändert.",
        "Forum post {id} is withdrawn: its writer deleted or changed it.",
    ),
    "forum.staff_changed": _both(
        "Forum-Beitrag {id} wurde geändert; „!forum pending“ zeigt die neue Fassung.",
        "Forum post {id} was changed; \"!forum pending\" shows the new version.",
    ),
    "forum.approved_staff": _both("{id} ist freigegeben.", "{id} is approved."),
    "forum.rejected_staff": _both("{id} ist abgelehnt; die Person bekommt eine "
                                  "freundliche Nachricht.",
                                  "{id} is rejected; the youth gets a kind note."),
    "forum.unknown_post": _both("Den Beitrag {id} gibt es nicht (mehr).",
                                "There is no (longer a) post {id}."),
    "forum.no_reason": _both("Er passt leider nicht zu den Forum-Regeln.",
                             "Sadly it does not fit the forum rules."),
}
