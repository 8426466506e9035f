"""A mail youth invited into the chat a second time (`!chat` again: the first app lost, a new
phone) comes in with another account, while the first is still in the room. Both got in
only with a case code the office mailed them: whatever either writes is the youth's, read
and checked for a crisis, never dropped because the room now holds two accounts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import SynapseHandle, UserFactory
from tests.support.bot_harness import login, until
from tests.support.mail_e2e import case_code_mailed, mail_office, mail_taken

pytestmark = pytest.mark.integration


async def test_a_mail_youth_back_in_the_chat_with_a_new_account_is_read(
    synapse: SynapseHandle, user_factory: UserFactory, tmp_path: Path
) -> None:
    async with mail_office(synapse, user_factory, tmp_path, admin=True) as office:
        provider, process, bot = office.provider, office.process, office.bot
        _staff_room, room, _ = await mail_taken(office, "Kann ich auch chatten?",
                                               "<c2@youth.example>")

        accounts = []
        for device in ("phone", "newphone"):
            _invitation, code = await case_code_mailed(office, room)
            youth = await login(synapse, user_factory, tmp_path, f"kim-{device}")
            office.closing.append(youth)
            first = await youth.open_chat(process.user_id)
            await youth.wait_for(first, process.user_id, "anonym")
            await youth.send(first, code)
            assert await youth.accept_invite() == room
            # The code's use is mailed into the youth's thread (it may be someone else's).
            notice = (await asyncio.wait_for(provider.inbox.get(), 30)).get_content()
            assert "Fall-Code" in notice
            assert "benutzt" in notice
            accounts.append(youth)

        record = await bot.store.conversation_by_room(room)  # type: ignore[arg-type]
        assert record is not None
        await accounts[1].send(room, "hallo, ich bin es wieder, mit dem neuen handy")

        async def read() -> bool:
            return any(b"neuen handy" in item.body
                       for item in await bot.store.read_intake(record.conversation))

        await until(read, what="the words of the youth's new account to be read")
