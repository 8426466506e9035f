"""Issue 8, authorisation: who may run which command where, on real Synapse, every denial
asserted (the bot's exact reply, and that the routing state did not move).

One office for the whole module (starting a bot and logging in seven users is the slow part):

- counsellor A holds C1, the conversation of youth Y1, in a room the *bot* made (Y1 opened a
  plain private chat, so the bot moved to its own room: invite and kick need power 100);
- counsellor B holds C2, the conversation of youth Y2, in a room *Y2* made as Element does
  (trusted_private_chat: Y2 and the bot both hold power 100);
- team lead L is off duty; outsider U is on no roster and invited into nothing of the bot's.

Both counsellors are on duty with capacity 1 and nobody waits, so a wrongly accepted command
shows as a changed routing state and nothing is assigned behind a test's back. Tests that
change state on purpose restore it or come last (pytest keeps file order).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest
import pytest_asyncio
from nio import (
    JoinError,
    RoomInviteError,
    RoomInviteResponse,
    RoomPreset,
    RoomPutStateError,
)

from counsel_bot.core.ids import ConversationID
from counsel_bot.core.messages import text
from counsel_bot.core.routing import Router
from counsel_bot.core.routing.model import ConversationState
from tests.conftest import SynapseHandle
from tests.security.support import (
    BotWatch,
    conversation_of,
    intake,
    new_client,
    refusal,
    routing_state,
    send_text,
    user_of,
)
from tests.support.bot_harness import BotProcess, NioYouth, provision_bot, trust, until

pytestmark = pytest.mark.integration

ENCRYPTION = {"type": "m.room.encryption", "state_key": "",
              "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
CONVERSATION_ID = re.compile(r"C-[0-9A-F]{8}")

# The commands of the matrix; {c1} and {c2} are filled with the conversation ids.
COMMANDS = ("!duty on", "!capacity 3", "!next", "!take {c1}", "!transfer {c1} queue",
            "!close {c1}", "!confirm {c1}", "!dismiss {c1}", "!queue", "!status")


@dataclass
class Office:
    bot: BotProcess
    watch: BotWatch
    staff_room: str
    assigned: NioYouth  # A, holds C1
    other: NioYouth  # B, holds C2
    lead: NioYouth  # L, off duty
    youth: NioYouth  # Y1, in a room the bot made
    youth_room: str
    other_youth: NioYouth  # Y2, in a room Y2 made like Element
    other_room: str
    outsider: NioYouth  # U
    c1: ConversationID
    c2: ConversationID

    @property
    def router(self) -> Router:
        assert self.bot.bot is not None
        return self.bot.bot.conductor.router

    def client(self, role: str) -> NioYouth:
        return {"assigned": self.assigned, "other": self.other, "lead": self.lead,
                "youth": self.youth, "other_youth": self.other_youth,
                "outsider": self.outsider}[role]

    def room(self, name: str) -> str:
        return {"staff": self.staff_room, "youth": self.youth_room,
                "other_youth": self.other_room}[name]

    def fill(self, command: str) -> str:
        return command.format(c1=self.c1, c2=self.c2)

    async def command(self, who: NioYouth, room: str, body: str) -> tuple[int, str]:
        """Send ``body``; return the watch mark before it and the event id."""
        mark = self.watch.mark()
        event_id = await send_text(who, room, body)
        return mark, event_id


async def staff_says(office_watch: BotWatch, who: NioYouth, room: str, body: str,
                     expected: str) -> None:
    mark = office_watch.mark()
    await send_text(who, room, body)
    await office_watch.reply(room, mark, expected)


async def _invited(counsellor: NioYouth, watch: BotWatch, staff_room: str) -> str:
    """The youth's room the counsellor is invited to. Once (CI 78) no invitation came within
    30 s, and nothing said why: the failure now shows what the bot told the staff room and
    whom the router gave the conversations to."""
    try:
        return await counsellor.accept_invite()
    except AssertionError as exc:
        routed = [(c.conversation, c.state.value, c.assigned_to, c.returned_by) for c in
                  watch.bot.conductor.router.snapshot().conversations]
        on_duty = [(c.user, c.on_duty, c.capacity) for c in
                   watch.bot.conductor.router.snapshot().counsellors]
        raise AssertionError(f"{exc}; staff room: {watch.said_in(staff_room)}; routed: "
                             f"{routed}; counsellors: {on_duty}") from None


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def office(
    synapse: SynapseHandle, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Office]:
    tmp = tmp_path_factory.mktemp("authorisation")
    a, b, lead, y1, y2, outsider = [
        await new_client(synapse, tmp, name)
        for name in ("counsellor-a", "counsellor-b", "lead", "youth1", "youth2", "outsider")
    ]
    clients = (a, b, lead, y1, y2, outsider)
    process = await provision_bot(synapse, tmp / "bot", staff=[user_of(a), user_of(b)],
                                  team_leads=[user_of(lead)])
    # Authorisation only: the crisis model would read a youth's run of "!" commands joined
    # ("Hallo, hier ist Y1 !duty on !capacity 3") as risk and answer with the emergency
    # numbers, a false flag docs/crisis-model.md lists; the rules stay on.
    process.settings = replace(process.settings,
                               crisis=replace(process.settings.crisis, model=False))
    try:
        bot = await process.start()
        watch = BotWatch.attach(bot)
        staff_room = await a.accept_invite()
        assert await b.accept_invite() == staff_room
        assert await lead.accept_invite() == staff_room

        await staff_says(watch, a, staff_room, "!capacity 1", "Kapazität 1")
        await staff_says(watch, a, staff_room, "!duty on",
                         f"{a.client.user_id}: Du bist im Dienst")
        # A plain private chat gives the bot no power: it moves the youth to its own room.
        first = await y1.open_chat(process.user_id, like_element=False)
        youth_room = await y1.accept_invite()
        assert youth_room != first
        await y1.wait_for(youth_room, process.user_id, "anonym")
        await send_text(y1, youth_room, "Hallo, hier ist Y1")
        c1 = await conversation_of(process, youth_room)
        assert await _invited(a, watch, staff_room) == youth_room

        await staff_says(watch, b, staff_room, "!capacity 1", "Kapazität 1")
        await staff_says(watch, b, staff_room, "!duty on",
                         f"{b.client.user_id}: Du bist im Dienst")
        other_room = await y2.open_chat(process.user_id, like_element=True)
        await y2.wait_for(other_room, process.user_id, "anonym")
        await send_text(y2, other_room, "Hallo, hier ist Y2")
        c2 = await conversation_of(process, other_room)
        assert await _invited(b, watch, staff_room) == other_room
        # The transcript for each counsellor is the last thing the setup causes.
        await a.wait_for(youth_room, process.user_id, "Y1")
        await b.wait_for(other_room, process.user_id, "Y2")
        router = bot.conductor.router
        assert (c1_now := router.conversation(c1)) is not None
        assert c1_now.assigned_to == user_of(a)
        assert (c2_now := router.conversation(c2)) is not None
        assert c2_now.assigned_to == user_of(b)
        assert router.queue() == []
        yield Office(process, watch, staff_room, a, b, lead, y1, youth_room, y2, other_room,
                     outsider, c1, c2)
    finally:
        await process.stop()
        for client in clients:
            await client.close()


# --- who can get into which room (Matrix enforces these) --------------------------------------


@pytest.mark.parametrize(("who", "room"), [
    ("youth", "staff"), ("other_youth", "staff"), ("outsider", "staff"),
    ("other_youth", "youth"), ("outsider", "youth"), ("other", "youth"), ("lead", "youth"),
    ("youth", "other_youth"), ("outsider", "other_youth"), ("assigned", "other_youth"),
])
async def test_nobody_uninvited_can_join(office: Office, who: str, room: str) -> None:
    answer = await office.client(who).client.join(office.room(room))
    assert isinstance(answer, JoinError), answer
    assert answer.status_code == "M_FORBIDDEN"


async def test_a_counsellor_cannot_invite_an_outsider_into_the_staff_room(
    office: Office,
) -> None:
    outsider = user_of(office.outsider)
    answer = await office.assigned.client.room_invite(office.staff_room, outsider)
    try:
        assert isinstance(answer, RoomInviteError), answer
        assert answer.status_code == "M_FORBIDDEN"
    finally:
        if isinstance(answer, RoomInviteResponse):
            # Take it back (the bot created the room), so the outsider stays outside.
            assert office.bot.bot is not None
            await office.bot.bot.client.room_kick(office.staff_room, outsider)


async def test_a_youth_cannot_invite_anyone_into_the_bots_room_nor_raise_its_power(
    office: Office,
) -> None:
    youth = office.youth.client
    invite = await youth.room_invite(office.youth_room, user_of(office.other_youth))
    assert isinstance(invite, RoomInviteError), invite
    assert invite.status_code == "M_FORBIDDEN"
    levels = {"users": {youth.user_id: 100}, "invite": 0}
    raise_power = await youth.room_put_state(office.youth_room, "m.room.power_levels", levels)
    assert isinstance(raise_power, RoomPutStateError), raise_power
    assert raise_power.status_code == "M_FORBIDDEN"


async def test_in_a_room_the_youth_made_like_element_the_homeserver_refuses_their_invite(
    office: Office,
) -> None:
    """Element makes direct chats with trusted_private_chat, which gives the youth power 100
    too: Matrix lets the youth invite someone into their own counselling room. The embedded
    homeserver's contact rules refuse it (only the bot and the staff may be invited by a
    youth: homeserver_bridge/contact_rules.py). Before, the invitation went through."""
    youth = office.other_youth.client
    outsider = user_of(office.outsider)
    invite = await youth.room_invite(office.other_room, outsider)
    assert isinstance(invite, RoomInviteError), invite
    assert invite.status_code == "M_FORBIDDEN"


async def test_the_bot_does_not_join_a_room_a_staff_member_invites_it_to(
    office: Office,
) -> None:
    created = await office.assigned.client.room_create(
        preset=RoomPreset.private_chat, invite=[office.bot.user_id],
        initial_state=[ENCRYPTION])
    room = str(created.room_id)
    await until(lambda: room in office.watch.invites_seen, what="the bot to see the invite")
    assert office.bot.bot is not None
    assert room not in office.bot.bot.client.rooms


# --- staff commands in the staff room --------------------------------------------------------

# (who, command, expected refusal key, with the conversation the refusal names)
STAFF_ROOM_DENIALS = [
    ("other", "!take {c1}", "refused.assigned_to_other", "c1"),
    ("other", "!transfer {c1} queue", "refused.not_yours", "c1"),
    ("other", "!close {c1}", "refused.not_yours", "c1"),
    ("other", "!confirm {c1}", "refused.not_yours", "c1"),
    ("other", "!dismiss {c1}", "refused.not_yours", "c1"),
    ("other", "!next", "refused.at_capacity", None),
    ("assigned", "!take {c2}", "refused.assigned_to_other", "c2"),
    ("assigned", "!transfer {c2} queue", "refused.not_yours", "c2"),
    ("assigned", "!close {c2}", "refused.not_yours", "c2"),
    ("assigned", "!confirm {c2}", "refused.not_yours", "c2"),
    ("assigned", "!dismiss {c2}", "refused.not_yours", "c2"),
    ("assigned", "!take {c1}", "refused.already_yours", "c1"),
    ("assigned", "!next", "refused.at_capacity", None),
    ("lead", "!take {c1}", "refused.assigned_to_other", "c1"),
    ("lead", "!next", "refused.off_duty", None),
]


@pytest.mark.parametrize(("who", "command", "key", "names"), STAFF_ROOM_DENIALS)
async def test_staff_command_refused_in_the_staff_room(
    office: Office, who: str, command: str, key: str, names: str | None
) -> None:
    before = routing_state(office.bot)
    client = office.client(who)
    mark, _ = await office.command(client, office.staff_room, office.fill(command))
    params = {"id": office.c1 if names == "c1" else office.c2} if names else {}
    expected = refusal(key, user_of(client), **params)
    reply = await office.watch.reply(office.staff_room, mark, expected)
    assert reply == expected
    assert routing_state(office.bot) == before


@pytest.mark.parametrize(("who", "room"), [("assigned", "youth"), ("other", "other_youth")])
async def test_a_counsellor_in_their_own_conversation_room_is_refused_the_same_way(
    office: Office, who: str, room: str
) -> None:
    """Refusals do not depend on where a command is given: the holder of one conversation
    cannot close the other one from inside their own room either. (Where the refusal is
    shown, the youth's room or the staff room, is left open: see the report.)"""
    before = routing_state(office.bot)
    client = office.client(who)
    target = office.c2 if who == "assigned" else office.c1
    mark, event_id = await office.command(client, office.room(room), f"!close {target}")
    await office.watch.settle(event_id)
    expected = refusal("refused.not_yours", user_of(client), id=target)
    replies = [*office.watch.said_in(office.room(room), mark),
               *office.watch.said_in(office.staff_room, mark)]
    assert replies == [expected]
    assert routing_state(office.bot) == before


# --- youths: "!" is just text, kept for the counsellor ---------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("who", "room"), [("youth", "youth"), ("other_youth", "other_youth")])
async def test_a_youths_command_is_only_text_kept_for_the_counsellor(
    office: Office, who: str, room: str, command: str
) -> None:
    before = routing_state(office.bot)
    body = office.fill(command)
    mark, event_id = await office.command(office.client(who), office.room(room), body)
    await office.watch.settle(event_id)
    assert office.watch.said_in(office.room(room), mark) == []
    assert office.watch.said_in(office.staff_room, mark) == []
    own = office.c1 if who == "youth" else office.c2
    assert (await intake(office.bot, own))[-1] == body
    assert routing_state(office.bot) == before


# --- what staff may do for themselves, and what only a team lead may do ----------------------


@pytest.mark.parametrize("who", ["assigned", "other"])
async def test_counsellors_may_run_their_own_settings_and_overviews(
    office: Office, who: str
) -> None:
    client, room, watch = office.client(who), office.staff_room, office.watch
    await staff_says(watch, client, room, "!duty on", "Du bist im Dienst (Kapazität 1, offen 1)")
    await staff_says(watch, client, room, "!capacity 3", "Kapazität 3 (offen 1)")
    await staff_says(watch, client, room, "!capacity 1", "Kapazität 1 (offen 1)")
    await staff_says(watch, client, room, "!queue", "Warteschlange: 0 wartend")
    await staff_says(watch, client, room, "!status", "Du bist im Dienst.")


async def test_the_team_lead_may_run_their_own_settings_and_overviews(office: Office) -> None:
    lead, room, watch = office.lead, office.staff_room, office.watch
    await staff_says(watch, lead, room, "!duty on", "Du bist im Dienst")
    await staff_says(watch, lead, room, "!capacity 3", "Kapazität 3 (offen 0)")
    await staff_says(watch, lead, room, "!next", text("queue.empty", "de"))
    await staff_says(watch, lead, room, "!status", "Rolle: team_lead")
    await staff_says(watch, lead, room, "!queue", "Warteschlange: 0 wartend")
    await staff_says(watch, lead, room, "!duty off", "nicht mehr im Dienst")
    lead_state = office.router.counsellor(user_of(lead))
    assert lead_state is not None
    assert not lead_state.on_duty


async def test_only_the_team_lead_acts_on_a_colleagues_conversation(office: Office) -> None:
    """Changes C2 for good: it is closed at the end (the tests after this use C1 only)."""
    lead, b, room, watch = office.lead, office.other, office.staff_room, office.watch
    c2 = office.c2
    await staff_says(watch, lead, room, f"!confirm {c2}", f"{c2} bestätigt")
    await staff_says(watch, lead, room, f"!dismiss {c2}", f"{c2} verworfen")
    _, event_id = await office.command(lead, room, f"!transfer {c2} queue")
    await watch.settle(event_id)
    waiting = office.router.conversation(c2)
    assert waiting is not None
    assert waiting.state is ConversationState.WAITING
    # A waiting conversation: closing it or dismissing its flag is the lead's decision.
    for command in (f"!close {c2}", f"!dismiss {c2}"):
        expected = refusal("refused.team_lead_only", user_of(b), id=c2)
        await staff_says(watch, b, room, command, expected)
        now = office.router.conversation(c2)
        assert now is not None
        assert (now.state, now.assigned_to, now.crisis) == (
            waiting.state, waiting.assigned_to, waiting.crisis)
    await send_text(lead, room, f"!close {c2}")
    await office.other_youth.wait_for(office.other_room, office.bot.user_id, "beendet")
    assert office.router.conversation(c2) is None


# --- a room the bot does not manage ----------------------------------------------------------


@dataclass
class Unmanaged:
    room: str
    creator: NioYouth  # the outsider U
    bystander: NioYouth


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def unmanaged(
    office: Office, synapse: SynapseHandle, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Unmanaged]:
    """A group room U made, with another user V, the bot and all staff in it. The bot joins
    (U is no staff member) but, with two people who are not staff, does not counsel there.
    The embedded homeserver refuses U's invitation of V (test_youth_contact.py); beside a
    homeserver without that rule such a room exists, and the homeserver here lets U's
    invitations through as such a one would (U stays no staff member to the bot)."""
    bystander = await new_client(synapse, tmp_path_factory.mktemp("unmanaged"), "bystander")
    try:
        creator = office.outsider
        trust(synapse, user_of(creator))
        created = await creator.client.room_create(
            preset=RoomPreset.trusted_private_chat, invite=[user_of(bystander)],
            initial_state=[ENCRYPTION])
        room = str(created.room_id)
        assert await bystander.accept_invite() == room
        for user in (office.bot.user_id, *(user_of(c) for c in
                                           (office.assigned, office.other, office.lead))):
            answer = await creator.client.room_invite(room, user)
            assert isinstance(answer, RoomInviteResponse), answer

        async def bot_joined() -> bool:
            return office.bot.user_id in await synapse.admin.room_members(room)

        await until(bot_joined, what="the bot to join the unmanaged room")
        for staff in (office.assigned, office.other, office.lead):
            assert await staff.accept_invite() == room

        async def told_once() -> bool:
            # The bot says once that counselling is one to one (`Strangers.one_to_one_only`); under
            # load that came after a test's mark and was taken for a reply to its command.
            return bool(await office.watch.bot.store.get_setting(f"shared_told:{room}"))

        await until(told_once, what="the bot to tell the room it counsels one to one")
        async def outbox_empty() -> bool:
            return not await office.watch.bot.store.pending_outbox()

        await until(outbox_empty, what="the bot's outbox to drain")
        yield Unmanaged(room, creator, bystander)
    finally:
        await bystander.close()


SAFE_REPLY = text("refused.not_staff", "de")


def assert_ignored_safely(said: list[str]) -> None:
    """Nothing said, or at most a fixed refusal: no state, no conversation id."""
    for body in said:
        assert not CONVERSATION_ID.search(body), body
        assert body.split(": ", 1)[-1] == SAFE_REPLY, body


UNMANAGED_BUG = (
    "bot.py CounselBot._on_text hands every message from a staff member to "
    "Conductor.staff_wrote whatever the room, so commands in a room the bot does not manage "
    "(neither the staff room nor a conversation room) are executed and answered there, in "
    "front of outsiders"
)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("who", ["creator", "bystander"])
async def test_outsiders_commands_in_an_unmanaged_room_are_ignored(
    office: Office, unmanaged: Unmanaged, who: str, command: str
) -> None:
    before = routing_state(office.bot)
    client = unmanaged.creator if who == "creator" else unmanaged.bystander
    mark, event_id = await office.command(client, unmanaged.room, office.fill(command))
    await office.watch.settle(event_id)
    assert_ignored_safely(office.watch.said_in(unmanaged.room, mark))
    assert routing_state(office.bot) == before
    assert office.watch.said_in(office.staff_room, mark) == []


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("who", ["assigned", "other", "lead"])
async def test_staff_commands_in_an_unmanaged_room_are_ignored(
    office: Office, unmanaged: Unmanaged, who: str, command: str
) -> None:
    before = routing_state(office.bot)
    mark, event_id = await office.command(office.client(who), unmanaged.room,
                                          office.fill(command))
    await office.watch.settle(event_id)
    assert_ignored_safely(office.watch.said_in(unmanaged.room, mark))
    assert routing_state(office.bot) == before
