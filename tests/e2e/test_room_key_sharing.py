"""Who may get a room key the bot already sent with: only devices of those it was meant for,
still members, never a blacklisted device or the bot's own."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from e2e.room_key_sharing import GIVE_AGAIN_AFTER, LATE_WITHIN, SentSession, may_give, missing

BOT = "@bot:x"
COUNSELLOR = "@anna:x"
YOUTH = "@kim:x"


def session(**overrides: object) -> SentSession:
    fields: dict[str, object] = {
        "room_id": "!r:x", "session_id": "s1", "session_key": "key0",
        "recipients": frozenset({COUNSELLOR, YOUTH}), "shared_at": 100.0,
        "given": {(COUNSELLOR, "PHONE")}}
    fields.update(overrides)
    return SentSession(**fields)  # type: ignore[arg-type]


def test_a_recipients_new_device_may_get_it() -> None:
    assert may_give(session(), (COUNSELLOR, "LAPTOP"), own_user=BOT,
                    members_now={BOT, COUNSELLOR, YOUTH}, blacklisted=False, learned_at=101.0)


def test_someone_who_came_after_it_was_shared_may_not() -> None:
    assert not may_give(session(), ("@colleague:x", "PC"), own_user=BOT,
                        members_now={BOT, COUNSELLOR, YOUTH, "@colleague:x"},
                        blacklisted=False, learned_at=101.0)


def test_a_recipient_who_left_since_may_not() -> None:
    assert not may_give(session(), (COUNSELLOR, "LAPTOP"), own_user=BOT,
                        members_now={BOT, YOUTH}, blacklisted=False, learned_at=101.0)


def test_a_blacklisted_device_may_not() -> None:
    assert not may_give(session(), (YOUTH, "TABLET"), own_user=BOT,
                        members_now={BOT, COUNSELLOR, YOUTH}, blacklisted=True, learned_at=101.0)


def test_the_bots_own_devices_may_not() -> None:
    mine = session(recipients=frozenset({BOT, COUNSELLOR}))
    assert not may_give(mine, (BOT, "STANDBY"), own_user=BOT,
                        members_now={BOT, COUNSELLOR}, blacklisted=False, learned_at=101.0)


def test_a_device_learned_of_well_after_it_was_shared_may_not() -> None:
    """It came after the messages (a password stolen later): the next session is its."""
    assert not may_give(session(), (YOUTH, "TABLET"), own_user=BOT,
                        members_now={BOT, COUNSELLOR, YOUTH}, blacklisted=False,
                        learned_at=100.0 + LATE_WITHIN + 1)


def test_a_device_that_had_it_may_get_it_again_later() -> None:
    assert may_give(session(), (COUNSELLOR, "PHONE"), own_user=BOT,
                    members_now={BOT, COUNSELLOR, YOUTH}, blacklisted=False,
                    learned_at=100.0 + 10 * LATE_WITHIN)


def test_a_device_the_bot_gave_it_gets_it_again_only_a_while_later() -> None:
    """One that asks over and over would make the bot send it each time."""
    sent = session()
    sent.gave((YOUTH, "TABLET"), 150.0)
    assert (YOUTH, "TABLET") in sent.given
    for at, allowed in ((151.0, False), (150.0 + GIVE_AGAIN_AFTER - 1, False),
                        (150.0 + GIVE_AGAIN_AFTER, True)):
        assert may_give(sent, (YOUTH, "TABLET"), own_user=BOT,
                        members_now={BOT, COUNSELLOR, YOUTH}, blacklisted=False,
                        learned_at=at) is allowed


def test_missing_are_the_recipients_devices_without_it() -> None:
    devices = [(COUNSELLOR, "PHONE"), (COUNSELLOR, "LAPTOP"), ("@other:x", "PC"),
               (YOUTH, "TABLET")]
    assert missing(session(), devices) == [(COUNSELLOR, "LAPTOP"), (YOUTH, "TABLET")]


def test_the_key_given_is_the_one_first_shared() -> None:
    assert session().key_content() == {
        "algorithm": "m.megolm.v1.aes-sha2", "room_id": "!r:x", "session_id": "s1",
        "session_key": "key0"}


users = st.sampled_from([BOT, COUNSELLOR, YOUTH, "@colleague:x", "@stranger:x"])


@given(recipients=st.frozensets(users), members=st.frozensets(users), user=users,
       blacklisted=st.booleans(), after=st.floats(min_value=0, max_value=10 * LATE_WITHIN))
def test_never_to_anyone_but_a_member_it_was_meant_for(
    recipients: frozenset[str], members: frozenset[str], user: str, blacklisted: bool,
    after: float,
) -> None:
    allowed = may_give(session(recipients=recipients), (user, "D"), own_user=BOT,
                       members_now=members, blacklisted=blacklisted, learned_at=100.0 + after)
    if allowed:
        assert user in recipients
        assert user in members
        assert user != BOT
        assert not blacklisted
        assert after <= LATE_WITHIN
