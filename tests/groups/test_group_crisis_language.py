"""A youth who writes English in their own chat gets a group's crisis offer there in
German: the group texts are in the installation's language, and so was the one text a youth
in crisis must understand, with the emergency lines. Now the offer is in their chat's
language. The conductor with the memory store, then the group rooms' executor on a stand-in
of nio's client; no server."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from nio import JoinedMembersResponse, MatrixRoom
from nio.responses import RoomMember

from counsel_bot.channels.matrix.group_rooms import GroupRooms
from counsel_bot.core.ids import RoomID, UserID
from tests.groups.test_group_desk import ANNA, Parts, notices

HOME = RoomID("!home1:x")


class Client:
    user_id = "@bot:x"

    def __init__(self) -> None:
        self.rooms = {HOME: MatrixRoom(HOME, self.user_id, encrypted=True)}

    async def joined_members(self, room_id: str) -> object:
        return JoinedMembersResponse([RoomMember("@y1:x", "y1", ""),
                                      RoomMember(self.user_id, "bot", "")], room_id)


async def performed(p: Parts, notice: object, key: str) -> list[str]:
    """What the group rooms' executor sends when it performs ``notice``."""
    sent: list[str] = []

    async def send(room_id: RoomID, body: str, key: str, **_: Any) -> None:
        sent.append(body)

    executor = SimpleNamespace(client=Client(), store=p.store, default_language="de",
                               send=send)
    rooms = GroupRooms(executor, room_opened=lambda n, r: None,  # type: ignore[arg-type]
                       room_purged=lambda n: None)
    await rooms.perform(notice, key)  # type: ignore[arg-type]
    return sent


async def test_the_crisis_offer_is_in_the_language_of_the_youths_chat() -> None:
    p = Parts()
    await p.start()
    await p.youth(1, "hello, I have a lot of trouble with my parents and I need help")
    record = await p.store.conversation_by_room(HOME)
    assert record is not None
    assert record.language == "en"
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.youth(1, "gruppe 1")
    await p.open_group()
    await p.new()
    await p.in_group(UserID("@y1:x"), "I want to kill myself")
    [offer] = notices(await p.new(), "group.crisis_offer")  # type: ignore[arg-type]

    [body] = await performed(p, offer, "group_crisis_offer:1:x")
    assert "I noticed in the group" in body, f"the offer in German: {body[:60]!r}"


async def test_a_sign_up_in_an_english_chat_is_answered_in_english() -> None:
    """The youth-text review: past the crisis offer, every group and forum answer in a youth's
    own chat (the sign-up, with its warning that the others see the account's id; the
    list; the forum's) was German for a youth whose chat is English, while English texts
    exist for each."""
    p = Parts()
    await p.start()
    await p.youth(1, "hello, I have a lot of trouble with my parents and I need help")
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.new()
    await p.youth(1, "gruppe 1")
    [signed] = notices(await p.new(), "group.signed_up")  # type: ignore[arg-type]

    [body] = await performed(p, signed, "group_signed:1:x")
    assert body.startswith("You are in: group 1"), f"the sign-up in German: {body[:60]!r}"


async def test_the_list_of_groups_counts_free_seats_in_english() -> None:
    """The list an English-writing youth gets says how many seats are free: "3 frei" was
    German inside the English text."""
    p = Parts()
    await p.start()
    await p.youth(1, "hello, I have a lot of trouble with my parents and I need help")
    await p.staff(ANNA, '!group new "Prüfungsangst" 2026-12-10 18:00 90min max 4')
    await p.new()
    await p.youth(1, "group")
    [listing] = notices(await p.new(), "group.list_youth")  # type: ignore[arg-type]

    [body] = await performed(p, listing, "group_list:1:x")
    assert body.startswith("These groups are coming up"), body[:60]
    assert "frei" not in body, f"German in the English list: {body!r}"
    assert "4 seats free" in body, body
