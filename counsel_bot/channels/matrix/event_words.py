"""What a Matrix event says, read from its content as the sender wrote it (pure): the
words of a message of any kind, an edit's new words, a poll's question and answers, and
the words of an event held for a room move."""

from __future__ import annotations

from typing import Any

from nio import (
    BadEvent,
    ReactionEvent,
    RoomMemberEvent,
    RoomMessage,
    StickerEvent,
    UnknownBadEvent,
    UnknownEvent,
)

from counsel_bot.core.ids import EventID
from counsel_bot.core.incoming_text import html_text, without_reply_fallback

# Message kinds that are words like a text (no attachment): a text nio could not parse too
# (its words only in HTML).
TEXT_MSGTYPES = frozenset({"m.text", "m.emote", "m.notice"})
# Message kinds that are no message: a key verification asked for in the room (Element's
# and FluffyChat's "Verify" in a chat) is a request to the other member's app; its body
# only tells old apps that they cannot take part.
NOT_MESSAGES = frozenset({"m.key.verification.request"})
# Event types whose body is words even when nio could not parse them (a BadEvent).
BAD_WITH_WORDS = frozenset({"m.room.message", "m.sticker"})


def content_of(
    event: RoomMessage | BadEvent | UnknownBadEvent | StickerEvent | UnknownEvent,
) -> dict[str, Any]:
    """The event's content as the sender wrote it ({} when it is none: a malformed event)."""
    raw = event.source if isinstance(event.source, dict) else {}
    content = raw.get("content")
    return content if isinstance(content, dict) else {}


def words_of(
    event: RoomMessage | BadEvent | UnknownBadEvent | StickerEvent | UnknownEvent,
) -> str:
    """The words a message event carries, whatever its kind (text, /me, notice, a
    picture's caption): its content's body without the quote of a reply, or "" when it
    has none."""
    content = content_of(event)
    body = content.get("body")
    if not isinstance(body, str):
        # Words only in HTML: an app that renders it shows them (nio calls it a BadEvent).
        html = content.get("formatted_body")
        return html_text(html) if isinstance(html, str) else ""
    relates = content.get("m.relates_to")
    if isinstance(relates, dict) and "m.in_reply_to" in relates:
        return without_reply_fallback(body)
    return body


def edited_words(
    event: RoomMessage | BadEvent | UnknownBadEvent | StickerEvent | UnknownEvent,
) -> str | None:
    """An edit's new words (its ``m.new_content``), or None if the event is no edit. Its
    ``body`` is only the fallback for clients without edits: "* " and the new words. An
    edit of a reply carries no reply relation of its own, yet Element Android puts the
    reply's quote into its new words again: only the exact fallback shape is taken away
    (`without_reply_fallback`), as from the reply itself."""
    content = content_of(event)
    relates = content.get("m.relates_to")
    if not isinstance(relates, dict) or relates.get("rel_type") != "m.replace":
        return None
    new = content.get("m.new_content")
    body = new.get("body") if isinstance(new, dict) else None
    return without_reply_fallback(body) if isinstance(body, str) else None


def command_head(text: str) -> str:
    """A command's mark and word, never its words after ("!note", "! note"): what an edit
    into a command is weighed by (a note's leaves the youth's room) and named by. A phone
    may put a space after the mark; the working-day parser reads "! note" as "!note"."""
    words = text.split(maxsplit=2)
    if len(words) > 1 and not any(ch.isalnum() for ch in words[0]):
        return " ".join(words[:2])
    return words[0] if words else ""


def edited_event(event: RoomMessage | BadEvent | UnknownBadEvent) -> EventID | None:
    """The event an edit replaces (None: no edit)."""
    relates = content_of(event).get("m.relates_to")
    if not isinstance(relates, dict) or relates.get("rel_type") != "m.replace":
        return None
    original = relates.get("event_id")
    return EventID(original) if isinstance(original, str) else None


# A call rings the other members by an event of its own: Element X (Element Call) sends no
# `m.call.invite` but MSC4075's notification, as it names it now or did.
CALL_RINGS = frozenset({"m.call.notify", "org.matrix.msc4075.call.notify",
                        "m.rtc.notification", "org.matrix.msc4075.rtc.notification"})
# A live location shared starts with a state event of its own (MSC3672; its positions follow
# as events of another type, encrypted).
LIVE_LOCATIONS = frozenset({"m.beacon_info", "org.matrix.msc3672.beacon_info"})
# A poll is an event type of its own (Matrix 1.7, and MSC3381's as Element still sends it).
POLL_TYPES = frozenset({"m.poll.start", "org.matrix.msc3381.poll.start"})


def _extensible_text(block: object) -> str:
    """The plain text of an extensible-events block: MSC1767's string, or Matrix 1.7's
    list of representations (the first plain one)."""
    if not isinstance(block, dict):
        return ""
    unstable = block.get("org.matrix.msc1767.text")
    if isinstance(unstable, str):
        return unstable
    stable = block.get("m.text")
    if isinstance(stable, list):
        return next((r["body"] for r in stable if isinstance(r, dict)
                     and isinstance(r.get("body"), str)
                     and r.get("mimetype", "text/plain") == "text/plain"), "")
    body = block.get("body")
    return body if isinstance(body, str) else ""


def poll_words(content: dict[str, Any]) -> str:
    """A poll's question and its answers ("question – a / b"), or its fallback text. An
    edited poll's are its new ones: Element sends an edit with its poll only in
    ``m.new_content``, which is read as apps show it: one level, whatever it holds in turn
    (a hostile edit nested deeper hid harmless words there, or overflowed the stack)."""
    new = content.get("m.new_content")
    relates = content.get("m.relates_to")
    if isinstance(new, dict) and isinstance(relates, dict) \
            and relates.get("rel_type") == "m.replace":
        content = new
    poll = content.get("m.poll", content.get("org.matrix.msc3381.poll.start"))
    if not isinstance(poll, dict):
        return _extensible_text(content)
    answers = poll.get("answers")
    picks = [_extensible_text(a) for a in answers] if isinstance(answers, list) else []
    question = _extensible_text(poll.get("question"))
    shown = " / ".join(p for p in picks if p)
    return f"{question} – {shown}" if shown else question or _extensible_text(content)


def held_words(event: Any) -> str:
    """The words of an event held for a move (`HeldEvents`), for its crisis check
    before it is read: a message's (an edit's new ones), a poll's, a sticker's, a
    reaction's key, a new name (only one of crisis words is held: `_on_renamed`)."""
    if isinstance(event, RoomMessage | BadEvent | UnknownBadEvent):
        corrected = edited_words(event)
        return words_of(event) if corrected is None else corrected
    if isinstance(event, UnknownEvent) and event.type in POLL_TYPES:
        return poll_words(event.source.get("content") or {})
    if isinstance(event, ReactionEvent):
        return str(event.key)
    if isinstance(event, RoomMemberEvent):
        name = event.content.get("displayname") if isinstance(event.content, dict) else None
        return name if isinstance(name, str) else ""
    return event.body if isinstance(event, StickerEvent) else ""
