"""A mail youth's way into the chat, against a real SQLite store (issue 20, items 2 and 3):
no live secret reaches the database file unsealed, and a case code is burnt in the same
transaction as the invitation it opens. The neighbour of the store's canary test
(`tests/store/test_sqlite_store.py::test_no_plaintext_reaches_the_files`), with real effects
in the outbox and real settings."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from counsel_bot.channels.mail.codes import ChatLink
from counsel_bot.channels.mail.mail_channel import MailChannel
from counsel_bot.config import Settings
from counsel_bot.conversation.change import Change
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import InviteYouth, SendMail, decode_effect
from counsel_bot.core.ids import ConversationID, EventID, RoomID, UserID
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import SqliteStore, StoreError
from homeserver_bridge.mail import MailSettings
from tests.store.conftest import AeadSealer

AT = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
CANARY = "canary7f3akummer"
LEAD = UserID("@lea:x")


async def channel_on_disk(
    path: Path, sealer: AeadSealer | None = None
) -> tuple[Conductor, MailChannel]:
    """A conductor and its mail channel on a real SQLite store (no server, no SMTP)."""
    sealer = sealer if sealer is not None else AeadSealer()
    store = await SqliteStore.open(path, sealer)
    detector = CrisisDetector.from_directory(default_lexicon_dir())
    conductor = await Conductor.open(store, detector, policy_from(Settings()), AT)

    async def token(_expires: datetime) -> str:
        return f"{CANARY}-registration-token"

    mail = MailChannel(conductor, None, MailSettings(), None,  # type: ignore[arg-type]
                       lambda: AT, _no_room, None)  # type: ignore[arg-type]
    mail.chat_link = ChatLink("https://counsel.example", "https://matrix.to/#/@bot:x", token)
    conductor.chat_invite = mail.codes.invite_to_chat
    conductor.redeem_case_code = mail.codes.redeem_case_code
    conductor.mail_switch = mail.switch_to_mail
    return conductor, mail


async def _no_room() -> Any:
    raise AssertionError("no room is created here")


async def _invited(conductor: Conductor, mail: MailChannel) -> tuple[ConversationID, str]:
    """A mail youth writes, staff invite them to the chat; returns the conversation and
    the code the invitation mail carries."""
    conversation = await mail.mail_opened(RoomID("!mailroom:x"), f"mailto:{CANARY}@example.org",
                                          "de", AT)
    await mail.mail_received(conversation, EventID("mail:1"), f"{CANARY} geht es mir schlecht",
                             AT)
    change = Change(AT, EventID("$invite"))
    await mail.codes.invite_to_chat(change, conversation, LEAD)
    await conductor.commit(change)
    mails = [decode_effect(e.payload) for e in await conductor.store.pending_outbox()]
    [invitation] = [m for m in mails if isinstance(m, SendMail)]
    found = re.search(r"\b([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})\b", invitation.text)
    assert found is not None, "the invitation carries its code"
    return conversation, found.group(1)


async def test_no_secret_of_a_chat_invitation_reaches_the_files(tmp_path: Path) -> None:
    path = tmp_path / "counsel.db"
    conductor, mail = await channel_on_disk(path)
    try:
        _conversation, code = await _invited(conductor, mail)
        # A chat youth switching to mail: the address sealed in the settings.
        chat = await mail.mail_opened(RoomID("!other:x"), "mailto:x@example.org", "de", AT)
        change = Change(AT, EventID("$switch"))
        await mail.switch_to_mail(change, chat, f"{CANARY}.switch@example.org")
        await conductor.commit(change)
        keys = [e.key for e in await conductor.store.pending_outbox()]
        assert any(key.startswith("chat-invite:") for key in keys)
        _assert_nowhere(tmp_path, [code, code.replace("-", ""), CANARY])
    finally:
        await conductor.store.close()
    _assert_nowhere(tmp_path, [code, code.replace("-", ""), CANARY])


def _assert_nowhere(directory: Path, needles: list[str]) -> None:
    files = list(directory.iterdir())
    assert files
    for file in files:
        data = file.read_bytes()
        for needle in needles:
            for form in {needle, needle.lower(), needle.upper()}:
                assert form.encode() not in data, (file.name, needle)
async def test_a_crash_before_the_invitation_is_committed_does_not_spend_the_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    conductor, mail = await channel_on_disk(tmp_path / "counsel.db")
    store = conductor.store
    try:
        conversation, code = await _invited(conductor, mail)
        youth, lobby = UserID("@newyouth:x"), RoomID("!lobby:x")
        real_commit = store.commit_transition

        async def crash(_transition: object) -> bool:
            raise StoreError("the process died here")

        monkeypatch.setattr(store, "commit_transition", crash)
        with pytest.raises(StoreError):
            await conductor.youth_wrote(lobby, youth, None, EventID("$code1"), code, AT)
        monkeypatch.setattr(store, "commit_transition", real_commit)
        # Written again after the restart: the code still opens the conversation.
        await conductor.youth_wrote(lobby, youth, None, EventID("$code2"), code, AT)
        effects = [decode_effect(e.payload) for e in await store.pending_outbox()]
        assert InviteYouth(conversation, youth, lobby) in effects
        # And only once.
        assert await mail.codes.redeem_case_code(Change(AT, None), code) is None
    finally:
        await store.close()


def _assert_nowhere(directory: Path, needles: list[str]) -> None:
    files = list(directory.iterdir())
    assert files
    for file in files:
        data = file.read_bytes()
        for needle in needles:
            for form in {needle, needle.lower(), needle.upper()}:
                assert form.encode() not in data, (file.name, needle)
