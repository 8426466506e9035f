"""A conversation's video call: started by its counsellor (or, if allowed, the youth), ended
again, and its widget removed when the conversation closes.

One meeting at a time per conversation: a new one replaces the old, but an appointment's
call never cuts the chat's own call while it is live (its counsellor talking to the youth):
the appointment's call waits for it (`waiting`, stored as ``video_waits:<conversation>``),
or, the appointment's counsellor being in it, the live call is the appointment's
(`adopt`). The meeting itself (ids,
links, tokens) comes from `counsel_bot.core.video`; this module decides when, and adds the
effects to the `Change`. The current widget per conversation is kept in memory and in the
settings (`widget:<conversation>`, with until when its links let the two in and whose call it
is, and marked when it is an appointment's call, which a hand-over of the chat leaves open),
so it survives a restart, and so does the hold a call puts on the response timers. No I/O.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime

from counsel_bot.conversation.change import Change
from counsel_bot.core.effects import (
    MailToYouth,
    PutWidget,
    SayPrivately,
    SayToStaff,
    SayToYouth,
)
from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing.model import Channel, ConversationSnapshot
from counsel_bot.core.video import VideoSettings, create_meeting


def setting_key(conversation: ConversationID) -> str:
    return f"widget:{conversation}"


# Marks a stored widget as an appointment's call (`VideoCalls.appointments`) or a chat's
# own, followed by "<until>:<widget>:<host>": until when its links let the two in (seconds
# since the epoch), the widget, and whose call it is (empty: nobody's). Older stores hold the
# bare widget, or an appointment's mark without the host.
APPOINTMENT_MARK = "appointment:"
CALL_MARK = "call:"
# An appointment's call due while the chat's own call was live: the appointment's id.
WAITING_PREFIX = "video_waits:"


def waiting_key(conversation: ConversationID) -> str:
    return f"{WAITING_PREFIX}{conversation}"


class VideoCalls:
    def __init__(self, settings: VideoSettings, secret: str | None) -> None:
        self.settings = settings
        # The Jitsi app secret, when token auth is on; never shown (no repr of it here).
        self._secret = secret
        self.widgets: dict[ConversationID, str] = {}
        # Until when each call's links let the two in (stored with the widget: after a
        # restart mid-call the response timers still leave the counsellor to talk).
        self.until: dict[ConversationID, datetime] = {}
        # Conversations whose call is an appointment's: it belongs to the appointment, which
        # stands through a hand-over of the chat, so only the chat's own calls end then.
        self.appointments: set[ConversationID] = set()
        # Whose call it is (stored, as `until`): an appointment's is its counsellor's, who
        # may no longer be the one the chat is with.
        self.hosts: dict[ConversationID, UserID] = {}
        # Appointments (their ids) whose call waits until the chat's live call is over.
        self.waiting: dict[ConversationID, str] = {}
        self.random_bytes: Callable[[int], bytes] = os.urandom

    def restore(self, conversation: ConversationID, stored: str | None, *,
                replace: bool = False) -> None:
        """The stored widget; ``replace``: none stored means none (after a failed step)."""
        if stored:
            self.until.pop(conversation, None)
            self.hosts.pop(conversation, None)
            appointment = stored.startswith(APPOINTMENT_MARK)
            if appointment or stored.startswith(CALL_MARK):
                mark = APPOINTMENT_MARK if appointment else CALL_MARK
                until, _, rest = stored.removeprefix(mark).partition(":")
                widget, _, host = rest.partition(":")
                self.widgets[conversation] = widget
                if until.isdigit():
                    self.until[conversation] = datetime.fromtimestamp(int(until), UTC)
                if host:
                    self.hosts[conversation] = UserID(host)
            else:
                widget = stored
                self.widgets[conversation] = widget
            if appointment:
                self.appointments.add(conversation)
            else:
                self.appointments.discard(conversation)
        elif replace:
            self.widgets.pop(conversation, None)
            self.until.pop(conversation, None)
            self.hosts.pop(conversation, None)
            self.appointments.discard(conversation)

    def in_call(self, conversation: ConversationID, at: datetime, counsellor: UserID) -> bool:
        """``counsellor``'s call with the youth is open and its links still let them in
        (another's, an appointment booked before a transfer, leaves the chat's counsellor
        to answer in the chat)."""
        until = self.until.get(conversation)
        return conversation in self.widgets and until is not None and at < until \
            and self.hosts.get(conversation) == counsellor

    def chat_call_live(self, conversation: ConversationID, at: datetime) -> bool:
        """The room shows the chat's own call (not an appointment's), its links still
        letting the two in: its counsellor may be talking to the youth right now."""
        until = self.until.get(conversation)
        return conversation in self.widgets and conversation not in self.appointments \
            and until is not None and at < until

    def adopt(self, step: Change, conversation: ConversationID, until: datetime) -> bool:
        """The chat's live call becomes an appointment's (its counsellor is in it), if its
        links let the two in until ``until`` (the appointment's end and the time it may run
        over): then a hand-over leaves it open, and it goes when the appointment is over.
        Without token auth its links never expire."""
        current = self.until.get(conversation)
        widget = self.widgets.get(conversation)
        if current is None or widget is None or (self.settings.token_auth and current < until):
            return False
        if not self.settings.token_auth:
            current = max(current, until)
        self.until[conversation] = current
        self.appointments.add(conversation)
        step.settings.append((setting_key(conversation),
                              f"{APPOINTMENT_MARK}{int(current.timestamp())}:{widget}:"
                              f"{self.hosts.get(conversation, '')}"))
        return True

    def wait(self, step: Change, conversation: ConversationID, appointment: str) -> None:
        """The call of ``appointment`` (an id) starts once the chat's live call is over."""
        self.waiting[conversation] = appointment
        step.settings.append((waiting_key(conversation), appointment))

    def waited(self, step: Change, conversation: ConversationID) -> None:
        """No appointment's call waits any more in ``conversation`` (started, or over)."""
        if self.waiting.pop(conversation, None) is not None:
            step.settings.append((waiting_key(conversation), ""))

    def by_staff(self, step: Change, current: ConversationSnapshot, *, end: bool,
                 counsellor_name: str) -> None:
        """A staff member allowed to act for the conversation starts or ends its call."""
        if end:
            self.end(step, current.conversation)
            return
        # A mail youth reads mail, not the room (the counsellor's words there go out as
        # mail): the link goes in their thread, as an appointment's reminder brings it. With
        # video off the room's answer is for the counsellor, so it stays in the room.
        by_mail = current.channel is Channel.MAIL and self.settings.enabled
        url = self.start(step, current.conversation, current.assigned_to, counsellor_name,
                         tell_youth=not by_mail)
        if by_mail and url is not None:
            step.add(MailToYouth(current.conversation, "video.link", (("url", url),)))

    def by_youth(self, step: Change, conversation: ConversationID,
                 current: ConversationSnapshot | None, *, counsellor_name: str) -> None:
        if not self.settings.enabled:
            # Not "ask your counsellor": nobody could start the call.
            step.add(SayToYouth(conversation, "video.off"))
        elif not self.settings.youth_may_request:
            step.add(SayToYouth(conversation, "video.ask_counsellor"))
        elif current is None or current.assigned_to is None:
            step.add(SayToYouth(conversation, "video.after_counsellor"))
        elif self._open(conversation, step.at):
            # Asked again (a closed tab, to be sure): a new meeting cut the one the
            # counsellor, or an appointment's, is talking in. Its link is further up.
            step.add(SayToYouth(conversation, "video.open"))
        else:
            self.start(step, conversation, current.assigned_to, counsellor_name)

    def _open(self, conversation: ConversationID, at: datetime) -> bool:
        """The room shows a call whose links still let the two in."""
        until = self.until.get(conversation)
        return conversation in self.widgets and until is not None and at < until

    def start(self, step: Change, conversation: ConversationID, counsellor: UserID | None,
              counsellor_name: str, *, tell_youth: bool = True, office: str = "",
              until: datetime | None = None, staff_link: bool = False,
              mentions: tuple[UserID, ...] | None = None,
              appointment: bool = False) -> str | None:
        """A new, unguessable meeting; its links are made here, before anything is sent,
        so a replay after a crash posts the same links instead of a second meeting.
        Returns the youth's link (None: video is off); ``tell_youth=False`` leaves telling
        the youth to the caller (a mail youth gets it in the appointment's reminder mail).
        ``office`` names the staff room told that the link was sent ("": its
        conversation's); an appointment's call is the office's it was booked with.
        ``until``: the links stay valid at least until then (an appointment's call, to its
        end). ``staff_link``: the counsellor may not be in the room (an appointment's call,
        after the close or a hand-over), so they get their link even when it is the youth's.
        ``mentions``: whom the link goes to, each privately (default: ``counsellor``).
        ``appointment``: the call is an appointment's (a hand-over leaves it open)."""
        if not self.settings.enabled:
            if tell_youth:
                step.add(SayToYouth(conversation, "video.off"))
            return None
        self.end(step, conversation)
        meeting = create_meeting(self.settings, secret=self._secret, now=step.at,
                                 random_bytes=self.random_bytes,
                                 counsellor_name=counsellor_name, until=until)
        step.add(PutWidget(conversation, meeting.widget_id,
                           tuple(meeting.widget_content.items())))
        if tell_youth:
            step.add(SayToYouth(conversation, "video.link", (("url", meeting.youth_url),)))
        moderator = meeting.counsellor_url != meeting.youth_url
        if mentions is None:
            mentions = () if counsellor is None else (counsellor,)
        if (moderator or staff_link) and mentions:
            # The link goes to each it is for alone, in the bot's direct room with them: the
            # staff room is read by every colleague, and whoever holds the link (the
            # moderator's, with token auth) can join the youth's call unannounced, which
            # `!supervise` lets only a lead do, and tells the youth. The youth's room shows
            # the youth's link; the staff room learns only that it was sent.
            key = "video.counsellor_link" if moderator else "video.staff_link"
            for user in mentions:
                step.add(SayPrivately(user, conversation, key,
                                      (("conversation", conversation),
                                       ("url", meeting.counsellor_url))))
            step.add(SayToStaff("video.link_sent", (("conversation", conversation),
                                                    ("to", ", ".join(mentions))),
                                office=office))
        self.widgets[conversation] = meeting.widget_id
        self.until[conversation] = meeting.expires_at
        if counsellor is not None:
            self.hosts[conversation] = counsellor
        if appointment:
            self.appointments.add(conversation)
        mark = APPOINTMENT_MARK if appointment else CALL_MARK
        step.settings.append((setting_key(conversation),
                              f"{mark}{int(meeting.expires_at.timestamp())}:"
                              f"{meeting.widget_id}:{counsellor or ''}"))
        return meeting.youth_url

    def handed_over(self, step: Change, conversation: ConversationID, *,
                    by_mail: bool) -> None:
        """The conversation left its counsellor (transfer, back to the queue, off duty,
        removed): its call ends. Its links keep opening that conference until their tokens
        expire (without token auth, for ever), and the former counsellor holds the moderator
        link: the youth must not go on meeting there. The next call is a new conference;
        the youth, whose old link is still in their chat or mail, is told not to use it.
        An appointment's call stays while the appointment may run: it stands, its
        counsellor with it; after that its call is a stale link like any."""
        if self._appointment_running(conversation, step.at):
            return
        until = self.until.get(conversation)
        open_links = not self.settings.token_auth or until is None or step.at < until
        had_call = conversation in self.widgets
        self.end(step, conversation)
        if had_call and open_links:
            step.add(MailToYouth(conversation, "video.link_void") if by_mail
                     else SayToYouth(conversation, "video.link_void"))

    def moved_office(self, step: Change, conversation: ConversationID) -> None:
        """The conversation went on to another office: a chat's own call ends, its
        moderator being of the first office. An appointment's call stays while it may
        run: the appointment stays with the office it was booked with, its counsellor too."""
        if not self._appointment_running(conversation, step.at):
            self.end(step, conversation)

    def appointment_call_host(self, conversation: ConversationID,
                              at: datetime) -> UserID | None:
        """Whose appointment's call the room shows, while the appointment may run."""
        if not self._appointment_running(conversation, at):
            return None
        return self.hosts.get(conversation)

    def _appointment_running(self, conversation: ConversationID, at: datetime) -> bool:
        until = self.until.get(conversation)
        return conversation in self.appointments and (until is None or at < until)

    def appointment_over(self, step: Change, conversation: ConversationID) -> None:
        """The appointment whose call the room shows is off: its call ends (a chat's own
        call, started since, stays)."""
        if conversation in self.appointments:
            self.end(step, conversation)

    def appointments_over(self, step: Change) -> None:
        """Appointments' calls whose time is up (the appointment's end and the time it may
        run over, when its links stop letting the two in) leave their rooms: the room, closed
        ones included (kept until retention), is no place for an open conference, whose link
        without token auth never expires."""
        for conversation in sorted(self.appointments):
            until = self.until.get(conversation)
            if until is not None and step.at >= until:
                self.end(step, conversation)

    def forget(self, conversation: ConversationID) -> None:
        """The conversation is erased, its room with it: nothing left to take away."""
        self.widgets.pop(conversation, None)
        self.until.pop(conversation, None)
        self.hosts.pop(conversation, None)
        self.appointments.discard(conversation)
        self.waiting.pop(conversation, None)

    def end(self, step: Change, conversation: ConversationID) -> None:
        widget = self.widgets.pop(conversation, None)
        self.until.pop(conversation, None)
        self.hosts.pop(conversation, None)
        self.appointments.discard(conversation)
        if widget is not None:
            step.add(PutWidget(conversation, widget), f"unwidget:{conversation}:{widget}")
            step.settings.append((setting_key(conversation), ""))
