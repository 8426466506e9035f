"""A youth's mail meant for the counsellor alone (someone came in with the case code, so it
goes to the bot's direct room with the counsellor, not into the conversation's room) waited
there for that counsellor. Handed over meanwhile, it still went to the former counsellor
once they opened the direct room: the youth's words to someone no longer on the case,
and not to the one who is (an outside review's suspicion, 2026-12-07). Real Synapse, the
real bot, nio clients."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import pytest

from counsel_bot.conversation.change import Change
from counsel_bot.core.effects import PostText
from counsel_bot.core.ids import RoomID, UserID
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import NioYouth, office, on_duty, until

pytestmark = pytest.mark.integration


async def accept_all(client: NioYouth) -> None:
    for room in sorted(client.invited_to()):
        await client.client.join(room)


async def test_a_private_mail_goes_to_the_counsellor_on_the_case_now(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with office(synapse, user_factory, tmp_path, with_lead=True) as o:
        counsellor, youth, bot, former = o.counsellor, o.youth, o.bot_user, o.lead
        assert former is not None
        await on_duty(counsellor, bot)
        room = await youth.open_chat(bot)
        await youth.send(room, "hallo")
        await counsellor.accept_invite(within=60)
        record = await o.bot.store.conversation_by_room(RoomID(room))
        assert record is not None

        # Written when the lead still had the case; performed now, the counsellor has it.
        mail = f"MAIL-{secrets.token_hex(4)}"
        step = Change(datetime.now(UTC), None)
        step.add(PostText(record.conversation, mail, to=UserID(former.client.user_id)),
                 f"mail-post:{secrets.token_hex(4)}")
        await o.bot.conductor.commit(step)

        async def with_the_counsellor() -> bool:
            for client in (counsellor, former):
                await accept_all(client)
            return any(mail in body for _, sender, body in counsellor.received
                       if sender == bot)
        await until(with_the_counsellor, within=60,
                    what="the mail with the counsellor who has the case")
        assert not any(mail in body for _, _, body in former.received), \
            "the youth's mail went to someone no longer on the case"
