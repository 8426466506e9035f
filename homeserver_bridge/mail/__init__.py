"""The mail channel: real SMTP in (aiosmtpd) and out (aiosmtplib) around a pure core.

Pure: `parse` (inbound mail or bounce), `html_text`, `threads` (thread keys), `compose`
(reply and bounce), `said` (the office's words in a thread), `settings`. Adapters:
`inbound`, `outbound`.
"""

from homeserver_bridge.mail.compose import (
    CalendarFile,
    MailComposeError,
    ReplyThread,
    bounce_text,
    build_bounce,
    build_notice,
    build_reply,
    new_message_id,
    reply_subject,
)
from homeserver_bridge.mail.errors import (
    MailConfigError,
    MailError,
    MailRecipientRefused,
    MailRefused,
    MailSendError,
)
from homeserver_bridge.mail.inbound import InboundServer, MailSink, start_inbound
from homeserver_bridge.mail.outbound import MailSender
from homeserver_bridge.mail.parse import (
    Attachment,
    Bounce,
    BounceReason,
    InboundMail,
    parse_inbound,
)
from homeserver_bridge.mail.reply_lines import (
    QUOTE_LEFT_OUT,
    unquoted,
    unwrapped,
    unwrapped_and_written,
)
from homeserver_bridge.mail.said import Said, kept_said
from homeserver_bridge.mail.settings import MailLimits, MailSettings, is_address
from homeserver_bridge.mail.threads import (
    ThreadKey,
    key_for,
    legacy_key_for,
    thread_key,
    thread_key_candidates,
    thread_root,
)

__all__ = [
    "QUOTE_LEFT_OUT",
    "Attachment",
    "Bounce",
    "BounceReason",
    "CalendarFile",
    "InboundMail",
    "InboundServer",
    "MailComposeError",
    "MailConfigError",
    "MailError",
    "MailLimits",
    "MailRecipientRefused",
    "MailRefused",
    "MailSendError",
    "MailSender",
    "MailSettings",
    "MailSink",
    "ReplyThread",
    "Said",
    "ThreadKey",
    "bounce_text",
    "build_bounce",
    "build_notice",
    "build_reply",
    "is_address",
    "kept_said",
    "key_for",
    "legacy_key_for",
    "new_message_id",
    "parse_inbound",
    "reply_subject",
    "start_inbound",
    "thread_key",
    "thread_key_candidates",
    "thread_root",
    "unquoted",
    "unwrapped",
    "unwrapped_and_written",
]
