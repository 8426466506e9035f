"""A youth's mail is posted into the room of the counsellor who has the conversation. A mail
may hold 32 KB of text; nio sends every character outside ASCII as an escape (six bytes
for a Cyrillic or Arabic letter, twelve for an emoji), and the encrypted event grows by a
third again, so a long mail written in Russian or Arabic went over Matrix's 64 KiB for an
event. Synapse refused it (M_TOO_LARGE), five times, and the mail was dropped: the
counsellor never read it. Real Synapse, the real bot, nio clients."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import pytest

from counsel_bot.conversation.change import Change
from counsel_bot.core.effects import PostText
from counsel_bot.core.ids import RoomID
from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import office, on_duty, until

pytestmark = pytest.mark.integration


async def test_a_long_mail_in_cyrillic_reaches_the_counsellor_whole(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with office(synapse, user_factory, tmp_path) as o:
        counsellor, youth, bot = o.counsellor, o.youth, o.bot_user
        await on_duty(counsellor, bot)
        room = await youth.open_chat(bot)
        await youth.send(room, "hallo")
        await counsellor.accept_invite(within=60)
        record = await o.bot.store.conversation_by_room(RoomID(room))
        assert record is not None

        first, last = f"ANFANG-{secrets.token_hex(4)}", f"ENDE-{secrets.token_hex(4)}"
        line = "мне очень плохо, я не знаю, что делать дальше. "
        # 23 KB of UTF-8: well within what a mail may hold (mail.max_text_bytes, 32 KB).
        body = "\n".join([first, *[line * 4] * 70, last])
        assert len(body.encode("utf-8")) <= 32 * 1024
        step = Change(datetime.now(UTC), None)
        step.add(PostText(record.conversation, body), f"mail-post:{secrets.token_hex(4)}")
        await o.bot.conductor.commit(step)

        def posted() -> str:
            return "\n".join(b for r, s, b in counsellor.received if r == room and s == bot)

        await until(lambda: first in posted() and last in posted(), within=90,
                    what="the whole mail in the counsellor's room")
