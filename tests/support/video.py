"""What the video tests on real Synapse share: a bot that makes Jitsi links (with a
counsellor and a youth: `video_office`), and a youth assigned to an on-duty counsellor who
asked for a call (`!video`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from counsel_bot.core.video import VideoSettings
from tests.support.bot_harness import BotProcess, NioYouth, login, login_as, provision_bot, until

MEET = "https://meet.beratung.example"


def make_video_links(process: BotProcess, tmp: Path) -> None:
    """The bot (not started yet) makes signed Jitsi links on ``MEET``."""
    secret = tmp / "jitsi.secret"
    secret.write_text("s" * 40)
    secret.chmod(0o600)
    process.settings = replace(process.settings, video=VideoSettings(
        base_url=MEET, jitsi_app_id="counsel", jitsi_app_secret_file=str(secret)))


async def video_asked(counsellor: NioYouth, youth: NioYouth, bot: str,
                      words: str = "können wir reden statt schreiben?") -> str:
    """The youth opens a chat and writes ``words``; the on-duty counsellor takes it and
    sends `!video` there: the youth's room."""
    room = await youth.open_chat(bot)
    await youth.wait_for(room, bot, "anonym")
    await youth.send(room, words)
    await until(lambda: room in counsellor.invited_to(), what="the assignment")
    assert await counsellor.accept_invite() == room
    await counsellor.send(room, "!video")
    return room


async def invitation_to_direct(counsellor: NioYouth, known: set[str]) -> str:
    """The bot's invitation to a direct room with the counsellor (where their link goes),
    the one room they are invited to besides ``known``; not accepted."""
    await until(lambda: bool(counsellor.invited_to() - known), within=60,
                what="an invitation to a direct room with the bot")
    [direct] = counsellor.invited_to() - known
    return direct


@dataclass
class VideoOffice:
    """A running bot that makes video links, one counsellor (``account``, logged in, not
    yet on duty) and one youth; ``closing`` takes every further client a test logs in."""

    process: BotProcess
    account: Any  # the counsellor's account (user_id, password)
    counsellor: NioYouth
    youth: NioYouth
    closing: list[NioYouth] = field(default_factory=list)

    @property
    def bot(self) -> str:
        return self.process.user_id


@asynccontextmanager
async def video_office(synapse: Any, user_factory: Any, tmp: Path,
                       ) -> AsyncIterator[VideoOffice]:
    """Everything is stopped and closed afterwards, whatever the test did."""
    account = await user_factory("counsellor")
    counsellor = await login_as(synapse, account, tmp)
    process = await provision_bot(synapse, tmp / "bot", staff=[account.user_id])
    make_video_links(process, tmp)
    office: VideoOffice | None = None
    try:
        await process.start()
        youth = await login(synapse, user_factory, tmp, "youth")
        office = VideoOffice(process, account, counsellor, youth)
        yield office
    finally:
        await process.stop()
        for client in (*(office.closing if office else ()),
                       *((office.youth,) if office else ()), counsellor):
            await client.close()
