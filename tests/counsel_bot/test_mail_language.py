"""A mail youth asks for the other language in a mail, as a chat youth does in the chat.

The chat youth's "english please" switches the chat (`youth_side`); a mail was never read
for it: a youth whose first mail was German (or told no language) got every mail of the
office in German to the end, the crisis mail with the emergency numbers too, whatever they
wrote. Real conductor, mail channel, executor and store; a recording sender stands in for
the relay."""

from __future__ import annotations

from pathlib import Path

from counsel_bot.core.messages import text
from counsel_bot.store import SqliteStore
from e2e.vault import Vault
from homeserver_bridge.mail import InboundMail
from tests.support.mail_office import RecordingSender, office_on, perform_mails, plain_text

FIRST = InboundMail(
    message_id="<first@youth.example>", in_reply_to=None, references=(),
    subject="Hallo", from_address="sunflower@youth.example",
    reply_address="sunflower@youth.example",
    text="Hallo, ich weiß nicht, mit wem ich reden soll.", attachments=(),
)


async def test_a_mail_asking_for_english_is_answered_in_english(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "counsel.db",
                                   Vault.create(tmp_path / "vault.json", "pass phrase here"))
    sender = RecordingSender()
    office = await office_on(store, sender)
    try:
        await office.mail.deliver(FIRST)
        await perform_mails(office)
        assert len(sender.sent) == 1  # the acknowledgement, in German
        again = InboundMail(
            message_id="<second@youth.example>", in_reply_to=FIRST.message_id,
            references=(FIRST.message_id,), subject="Re: Hallo",
            from_address="sunflower@youth.example", reply_address="sunflower@youth.example",
            text="English please, my German is bad.\nI want to kill myself.", attachments=())
        await office.mail.deliver(again)
        await perform_mails(office)
        crisis = plain_text(sender.sent[-1])
        [conversation] = office.conductor.router.snapshot().conversations
        assert conversation.language == "en"
        assert text("safety_info", "en", emergency="").split("\n")[0] in crisis, crisis
    finally:
        await store.close()
