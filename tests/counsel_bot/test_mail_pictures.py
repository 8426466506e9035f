"""A picture a youth pastes into a mail is never passed on, but the counsellor learns it was
there: the mail's words often point at it ("look what he wrote me:"), and a counsellor who
does not know it is missing cannot ask for it in words.

Real parser, conductor, mail channel and store; no homeserver."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from counsel_bot.core.effects import PostText, decode_effect
from counsel_bot.store import SqliteStore
from homeserver_bridge.mail import InboundMail, MailLimits, parse_inbound
from tests.store.conftest import AeadSealer
from tests.support.mail_office import RecordingSender, office_on


def _pasted_screenshot() -> InboundMail:
    message = EmailMessage()
    message["From"] = "kim@youth.example"
    message["To"] = "beratung@counsel.example"
    message["Subject"] = "Hilfe"
    message["Message-ID"] = "<pasted@youth.example>"
    message.set_content("Schau mal, was er mir geschrieben hat:")
    message.add_alternative(
        "<p>Schau mal, was er mir geschrieben hat:</p><img src='cid:shot1'>", subtype="html")
    html = message.get_payload()[1]
    html.add_related(bytes(2000), maintype="image", subtype="png", cid="<shot1>",
                     filename="screenshot.png")
    mail = parse_inbound(message.as_bytes(), MailLimits())
    assert isinstance(mail, InboundMail), mail
    return mail


async def test_a_pasted_picture_is_named_for_the_counsellor(tmp_path: Path) -> None:
    """Before, an inline picture was neither counted (the mail is not refused for it) nor
    named: the counsellor read "look what he wrote me:" followed by nothing, and the youth
    believed the counsellor had seen it."""
    store = await SqliteStore.open(tmp_path / "counsel.db", AeadSealer())
    office = await office_on(store, RecordingSender())
    try:
        await office.mail.deliver(_pasted_screenshot())
        [posted] = [e for e in map(decode_effect, (entry.payload for entry in
                                                   await store.pending_outbox()))
                    if isinstance(e, PostText)]
        assert "Schau mal, was er mir geschrieben hat:" in posted.text
        assert "screenshot.png" in posted.text
    finally:
        await store.close()
