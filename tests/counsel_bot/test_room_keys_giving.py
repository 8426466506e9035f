"""The bot's room keys for devices it learns of late (`room_keys.RoomKeys`), on nio's real
Olm machine and store, offline: the rooms, devices and Olm sessions are made here, and the
one network call that matters, the to-device message carrying a key, is recorded instead
of sent (the interleavings below cannot be made to happen on a real homeserver at will)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from nio import RoomKeyRequest, ToDeviceResponse
from nio.crypto import OlmAccount, OlmDevice, OutboundSession
from nio.event_builders import ToDeviceMessage
from nio.rooms import MatrixRoom

from counsel_bot.channels.matrix.nio_erasure import forget_in_nio
from counsel_bot.channels.matrix.room_keys import RoomKeys
from counsel_bot.channels.matrix.session import CounselClient, client_config
from counsel_bot.core.ids import RoomID
from e2e.room_key_sharing import LATE_WITHIN
from e2e.vault import KdfParams, Vault

CHEAP = KdfParams(time_cost=1, memory_kib=8, parallelism=1)
BOT = "@bot:x"
COUNSELLOR = "@anna:x"
YOUTH = "@kim:x"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[CounselClient]:
    vault = Vault.create(tmp_path / "vault.json", "passphrase", CHEAP)
    store_dir = tmp_path / "nio"
    store_dir.mkdir(mode=0o700)
    made = CounselClient("http://127.0.0.1:9", BOT, store_path=str(store_dir),
                         config=client_config(vault))
    made.restore_login(BOT, "BOTDEVICE", "token")  # nio's Olm machine and store, offline
    try:
        yield made
    finally:
        await made.close()


def room(client: CounselClient, room_id: str, *members: str) -> None:
    made = MatrixRoom(room_id, BOT, encrypted=True)
    for user in (BOT, *members):
        made.add_member(user, None, None)
    client.rooms[room_id] = made


def device(client: CounselClient, user: str, device_id: str) -> OlmDevice:
    """A device the bot knows, with an Olm session to it (as after a keys claim)."""
    account = OlmAccount()
    account.generate_one_time_keys(1)
    keys = account.identity_keys
    made = OlmDevice(user, device_id, {"ed25519": keys["ed25519"],
                                       "curve25519": keys["curve25519"]})
    olm = client.olm
    assert olm is not None
    olm.device_store.add(made)
    olm.store.save_device_keys({user: {device_id: made}})
    one_time_key = next(iter(account.one_time_keys["curve25519"].values()))
    session = OutboundSession(olm.account, made.curve25519, one_time_key)
    olm.session_store.add(made.curve25519, session)
    olm.save_session(made.curve25519, session)
    return made


def share(client: CounselClient, keys: RoomKeys, room_id: str,
          *shared_with: OlmDevice) -> str:
    """nio made and shared a new session for the room (with ``shared_with``)."""
    olm = client.olm
    assert olm is not None
    olm.create_outbound_group_session(room_id)
    outbound = olm.outbound_group_sessions[room_id]
    outbound.users_shared_with.update((d.user_id, d.id) for d in shared_with)
    outbound.shared = True
    keys.shared(room_id)
    return str(outbound.id)


def key_request(client: CounselClient, session_id: str, room_id: str, asking: OlmDevice,
                number: int = 0) -> RoomKeyRequest:
    """``asking`` asks the bot for its session ``session_id`` (as Element and FluffyChat do)."""
    assert client.olm is not None
    request = RoomKeyRequest.from_dict({
        "type": "m.room_key_request", "sender": asking.user_id,
        "content": {"action": "request", "requesting_device_id": asking.id,
                    "request_id": f"req{number}",
                    "body": {"algorithm": "m.megolm.v1.aes-sha2", "room_id": room_id,
                             "sender_key": client.olm.account.identity_keys["curve25519"],
                             "session_id": session_id}}})
    assert isinstance(request, RoomKeyRequest)
    return request


def record_sends(client: CounselClient, sent: list[ToDeviceMessage],
                 meanwhile: Callable[[], Awaitable[None]] | None = None) -> None:
    async def to_device(message: ToDeviceMessage, tx_id: str | None = None) -> ToDeviceResponse:
        sent.append(message)
        if meanwhile is not None:
            await meanwhile()
        return ToDeviceResponse(message)
    client.to_device = to_device  # type: ignore[method-assign]


async def test_a_key_whose_session_is_dropped_while_it_is_being_sent_does_not_stop_the_bot(
    client: CounselClient,
) -> None:
    """The key for a device learned late is on its way (a slow homeserver) when a lane
    sends into the same room with its fourth session since, over two minutes after the
    first (a group room where youths come and go): the first is dropped meanwhile. The
    bot's sync loop gives the keys, and an error there stopped the bot: every youth then
    waited for the restart."""
    clock = Clock()
    keys = RoomKeys(client, clock=clock)
    room(client, "!group:x", COUNSELLOR, YOUTH)
    phone = device(client, COUNSELLOR, "PHONE")
    first = share(client, keys, "!group:x", phone)
    laptop = device(client, COUNSELLOR, "LAPTOP")
    keys.learned({COUNSELLOR: {"LAPTOP": laptop}})
    assert keys.pending == 1

    async def three_more_sessions() -> None:
        clock.now += LATE_WITHIN + 1  # the first is no longer one a late device may need
        for _ in range(3):
            share(client, keys, "!group:x", phone, laptop)
    sent: list[ToDeviceMessage] = []
    record_sends(client, sent, meanwhile=three_more_sessions)

    await keys.give()

    assert [(m.recipient, m.recipient_device) for m in sent] == [(COUNSELLOR, "LAPTOP")]
    assert keys.pending == 0
    keys.requested([key_request(client, first, "!group:x", phone)])
    await keys.give()
    assert len(sent) == 1, "the first session was not dropped meanwhile"


async def test_a_counsellors_new_device_queues_only_the_keys_it_may_get(
    client: CounselClient,
) -> None:
    """A counsellor in many rooms logs in on a new device: of the bot's kept keys (up to
    20,000 in an office) only those shared in the last two minutes may go to it. Each keys
    query answer walked and queued every kept key of the counsellor's rooms, and the next
    round walked them all again to drop them, with the sync loop held meanwhile (a shift
    change, many such answers in a row)."""
    clock = Clock()
    keys = RoomKeys(client, clock=clock)
    phone = device(client, COUNSELLOR, "PHONE")
    for number in range(200):
        room(client, f"!old{number}:x", COUNSELLOR, YOUTH)
        share(client, keys, f"!old{number}:x", phone)
    clock.now += LATE_WITHIN + 60
    room(client, "!fresh:x", COUNSELLOR, YOUTH)
    share(client, keys, "!fresh:x", phone)
    clock.now += 5
    laptop = device(client, COUNSELLOR, "LAPTOP")

    keys.learned({COUNSELLOR: {"LAPTOP": laptop}})

    assert keys.pending == 1
    sent: list[ToDeviceMessage] = []
    record_sends(client, sent)
    await keys.give()
    assert [(m.recipient, m.recipient_device) for m in sent] == [(COUNSELLOR, "LAPTOP")]


async def test_a_device_asking_again_and_again_is_given_the_key_once_a_while(
    client: CounselClient,
) -> None:
    """A youth's device that had the greeting's key asks for it over and over (a hundred
    requests a sync): each was one more Olm message, store write and to-device request, made
    one after the other in the sync loop, while every other youth's words waited. One that
    lost the key gets it again; asking on does not get it again until a while later."""
    clock = Clock()
    keys = RoomKeys(client, clock=clock)
    room(client, "!r:x", COUNSELLOR, YOUTH)
    phone = device(client, YOUTH, "PHONE")
    session_id = share(client, keys, "!r:x", phone)
    sent: list[ToDeviceMessage] = []
    record_sends(client, sent)

    for round_ in range(5):
        clock.now += 5
        keys.requested([key_request(client, session_id, "!r:x", phone, round_ * 100 + n)
                        for n in range(100)])
        await keys.give()
    assert [(m.recipient, m.recipient_device) for m in sent] == [(YOUTH, "PHONE")]

    clock.now += LATE_WITHIN
    keys.requested([key_request(client, session_id, "!r:x", phone, 1000)])
    await keys.give()
    assert len(sent) == 2


async def test_an_erased_conversations_room_key_is_given_to_nobody(
    client: CounselClient,
) -> None:
    """A conversation erased (the youth's own deletion, or retention): its room is purged
    and its keys leave nio's store and memory (`nio_erasure`). The bot still held the key of
    what it wrote there (the transcript of the youth's words among it) and gave it to a
    device that asked: nio keeps a room the bot was put out of, members and all."""
    keys = client.room_keys
    room(client, "!r:x", COUNSELLOR, YOUTH)
    phone = device(client, COUNSELLOR, "PHONE")
    session_id = share(client, keys, "!r:x", phone, device(client, YOUTH, "PHONE"))

    forget_in_nio(client, RoomID("!r:x"), None)

    sent: list[ToDeviceMessage] = []
    record_sends(client, sent)
    keys.requested([key_request(client, session_id, "!r:x", phone)])
    await keys.give()
    assert sent == []


async def test_a_device_learned_late_in_a_busy_forum_gets_every_key_of_the_last_minutes(
    client: CounselClient,
) -> None:
    """A forum where youths come and go: nio starts a new room key at each join or leave,
    and the bot posts each youth's words with the key of the moment. A youth's second app,
    whose keys the bot learns of a minute later, got only the last three of the keys of
    that minute: the posts before stayed unreadable on it for good."""
    clock = Clock()
    keys = RoomKeys(client, clock=clock)
    room(client, "!forum:x", COUNSELLOR, YOUTH)
    phone = device(client, YOUTH, "PHONE")
    for _ in range(6):
        share(client, keys, "!forum:x", phone)
        clock.now += 10
    tablet = device(client, YOUTH, "TABLET")

    keys.learned({YOUTH: {"TABLET": tablet}})
    sent: list[ToDeviceMessage] = []
    record_sends(client, sent)
    await keys.give()

    assert [(m.recipient, m.recipient_device) for m in sent] == [(YOUTH, "TABLET")] * 6


async def test_a_stranger_asking_with_a_made_up_device_makes_the_bot_query_nothing(
    client: CounselClient,
) -> None:
    """Someone the key was never meant for (a stranger the youth let in and the bot took
    out again saw its id) asks for it from a device the bot does not know: each such request
    had the bot ask the homeserver for the stranger's devices (a round trip in the sync loop,
    and the stranger's account in nio's store), for a key it would never give them."""
    keys = RoomKeys(client, clock=Clock())
    room(client, "!r:x", COUNSELLOR, YOUTH)
    session_id = share(client, keys, "!r:x", device(client, YOUTH, "PHONE"))
    assert client.olm is not None
    client.olm.users_for_key_query.clear()
    stranger = OlmDevice("@stranger:x", "MADEUP", {"ed25519": "x", "curve25519": "y"})

    keys.requested([key_request(client, session_id, "!r:x", stranger)])

    assert "@stranger:x" not in client.olm.users_for_key_query
    assert not client.should_query_keys
