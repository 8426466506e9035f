"""The sealing both durable stores share: every blob opens only in its own row and column."""

from __future__ import annotations

from datetime import UTC, datetime

import nacl.exceptions
import pytest

from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.core.routing.model import RouterSnapshot
from counsel_bot.store import IntakeMessage, NewConversation, OutboxEntry, Transition
from counsel_bot.store.rows import (
    open_intake,
    open_outbox,
    open_setting,
    resealed_intake,
    seal_transition,
)
from tests.store.conftest import AeadSealer

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
C1, C2 = ConversationID("c1"), ConversationID("c2")


def transition() -> Transition:
    return Transition(
        at=T0, snapshot=RouterSnapshot(),
        new_conversations=(NewConversation(C1, RoomID("!r1:x"), UserID("@y1:x"), "Kim"),),
        outbox=(OutboxEntry("k1", b"effect", T0, C1),),
        intake=(IntakeMessage(C1, EventID("$e1"), b"canary text"),),
        sealed_settings=(("note:c1", b"a note"), ("note:c2", None)))


def test_each_value_opens_in_its_own_row_only(sealer: AeadSealer) -> None:
    sealed = seal_transition(sealer, transition())
    [(_, youth, nickname)] = sealed.conversations
    assert b"@y1:x" not in youth
    assert nickname is not None
    assert b"Kim" not in nickname
    [item] = open_intake(sealer, C1, [(1, "$e1", sealed.intake[0])])
    assert item.body == b"canary text"
    [entry] = open_outbox(sealer, [("k1", sealed.outbox[0][1], T0.isoformat(), "c1")])
    assert (entry.payload, entry.created_at, entry.conversation) == (b"effect", T0, C1)
    assert open_setting(sealer, "note:c1", sealed.settings[0][1] or b"") == b"a note"
    assert sealed.settings[1] == ("note:c2", None)  # None deletes; nothing is sealed
    # A blob copied into another conversation's row, or under another key, does not open.
    with pytest.raises(nacl.exceptions.CryptoError):
        open_intake(sealer, C2, [(1, "$e1", sealed.intake[0])])
    with pytest.raises(nacl.exceptions.CryptoError):
        open_outbox(sealer, [("k2", sealed.outbox[0][1], T0, None)])
    with pytest.raises(nacl.exceptions.CryptoError):
        open_setting(sealer, "note:c2", sealed.settings[0][1] or b"")


def test_resealing_keeps_the_row_binding(sealer: AeadSealer) -> None:
    blob = seal_transition(sealer, transition()).intake[0]

    def reseal(sealed: bytes, context: bytes) -> bytes:
        return sealer.seal(sealer.open_sealed(sealed, context=context), context=context)

    again = resealed_intake(reseal, "c1", "$e1", blob)
    assert again != blob
    [item] = open_intake(sealer, C1, [(1, "$e1", again)])
    assert item.body == b"canary text"
