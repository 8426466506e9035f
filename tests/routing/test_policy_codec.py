"""The pure pieces: notification rule, ETA, and the outbox codec."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing import (
    Action,
    ActionCodecError,
    Assign,
    Closed,
    Notice,
    QueuePositionChanged,
    Reply,
    ReplyKey,
    Unassign,
    UnassignReason,
    decode_action,
    encode_action,
    outbox_key,
)
from counsel_bot.core.routing.policy import (
    ETA_UNKNOWN_BUCKET,
    add_sample,
    estimate_wait,
    eta_bucket,
    should_notify,
)

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
GAP = timedelta(minutes=2)


@pytest.mark.parametrize(
    ("previous", "position", "bucket", "later", "expected"),
    [
        (None, 5, 2, 0, True),  # first notice
        (Notice(5, 2, T0), 4, 2, 0, True),  # progress, even immediately
        (Notice(5, 2, T0), 5, 2, 600, False),  # nothing new
        (Notice(5, 2, T0), 6, 2, 600, False),  # worse place, same estimate: quiet
        (Notice(5, 2, T0), 6, 3, 60, False),  # estimate moved, but too soon
        (Notice(5, 2, T0), 6, 3, 120, True),  # estimate moved, after the interval
        (Notice(5, 2, T0), 5, 1, 120, True),  # estimate improved
    ],
)
def test_should_notify(
    previous: Notice | None, position: int, bucket: int, later: int, expected: bool
) -> None:
    at = T0 + timedelta(seconds=later)
    assert should_notify(previous, position, bucket, at, GAP) is expected


def test_eta_and_buckets() -> None:
    assert estimate_wait(3, timedelta(minutes=20), 0) is None
    assert estimate_wait(3, timedelta(minutes=20), 4) == timedelta(minutes=15)
    assert estimate_wait(1, timedelta(seconds=5), 4) == timedelta(minutes=1)
    assert eta_bucket(None) == ETA_UNKNOWN_BUCKET
    assert [eta_bucket(timedelta(minutes=m)) for m in (1, 5, 14, 15, 59, 60, 600)] == [
        0,
        1,
        1,
        2,
        3,
        4,
        4,
    ]


def test_moving_average_window() -> None:
    samples: tuple[float, ...] = ()
    for value in range(30):
        samples = add_sample(samples, float(value), 20)
    assert samples == tuple(float(v) for v in range(10, 30))
    assert add_sample((), -5.0, 3) == (0.0,)


C = ConversationID("c1")
U = UserID("@anna:x")
ACTIONS: list[Action] = [
    Assign(C, U, 3, manual=True),
    Unassign(C, U, UnassignReason.LEFT_ROOM),
    QueuePositionChanged(C, 2, timedelta(minutes=7)),
    QueuePositionChanged(C, 2, None),
    Reply(U, ReplyKey.QUEUE, (("entries", "c1:crisis:3m"), ("waiting", 1))),
    Closed(C, None, U),
    Closed(C, U, None),
]


@pytest.mark.parametrize("action", ACTIONS)
def test_codec_round_trip(action: object) -> None:
    assert decode_action(encode_action(action)) == action  # type: ignore[arg-type]


def test_outbox_keys_are_deterministic_and_name_the_invite() -> None:
    assert outbox_key(ACTIONS[0], version=9, index=0) == "assign:c1:@anna:x:3"
    keys = [outbox_key(a, version=9, index=i) for i, a in enumerate(ACTIONS)]
    assert keys == [outbox_key(a, version=9, index=i) for i, a in enumerate(ACTIONS)]
    # One event never yields two notices or two closes for one conversation: those may share.
    assert len(set(keys)) == len(keys) - 2


@given(st.binary(max_size=200))
def test_decoding_garbage_raises_our_error(raw: bytes) -> None:
    with contextlib.suppress(ActionCodecError):
        decode_action(raw)
