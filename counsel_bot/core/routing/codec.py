"""Actions as bytes for the outbox, and their deterministic idempotency keys.

The adapter persists each action before performing it; after a crash it decodes the pending
ones and performs them again. The key names the effect, so performing it twice is detectable.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from counsel_bot.core.ids import ConversationID, UserID
from counsel_bot.core.routing.actions import (
    Action,
    Assign,
    Closed,
    QueuePositionChanged,
    Reply,
    ReplyKey,
    Unassign,
)
from counsel_bot.core.routing.model import UnassignReason


class ActionCodecError(ValueError):
    """Stored outbox bytes are not an action this version understands."""


def outbox_key(action: Action, *, version: int, index: int) -> str:
    """A key stable across replays of the same transition (`version` = router version after it).

    Assign keys name the conversation, counsellor and assignment number, so an invite is
    recognisable as already done. Keys never contain youth identifiers.
    """
    match action:
        case Assign():
            return f"assign:{action.conversation}:{action.counsellor}:{action.assignment}"
        case Unassign():
            return f"unassign:{action.conversation}:{action.counsellor}:{version}"
        case QueuePositionChanged():
            return f"queue:{action.conversation}:{version}"
        case Closed():
            # With the version: a conversation opened again after its close closes again.
            return f"closed:{action.conversation}:{version}"
        case Reply():
            return f"reply:{version}:{index}"
    raise TypeError(f"no outbox key for {type(action).__name__}")


def encode_action(action: Action) -> bytes:
    match action:
        case Assign():
            data: dict[str, Any] = {
                "type": "assign",
                "conversation": action.conversation,
                "counsellor": action.counsellor,
                "assignment": action.assignment,
                "manual": action.manual,
            }
        case Unassign():
            data = {
                "type": "unassign",
                "conversation": action.conversation,
                "counsellor": action.counsellor,
                "reason": action.reason.value,
            }
        case QueuePositionChanged():
            eta = None if action.eta is None else action.eta.total_seconds()
            data = {
                "type": "queue",
                "conversation": action.conversation,
                "position": action.position,
                "eta": eta,
            }
        case Reply():
            data = {
                "type": "reply",
                "to": action.to,
                "key": action.message_key.value,
                "params": [list(p) for p in action.params],
            }
        case Closed():
            data = {
                "type": "closed",
                "conversation": action.conversation,
                "by": action.by,
                "counsellor": action.counsellor,
            }
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def decode_action(raw: bytes) -> Action:
    try:
        data = json.loads(raw)
        return _from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise ActionCodecError(
            "an outbox entry is not a known action; was it written by a newer version? "
            "Upgrade the bot or mark the entry done by hand"
        ) from exc


def _from_dict(data: dict[str, Any]) -> Action:
    kind = data["type"]
    if kind == "assign":
        return Assign(
            ConversationID(str(data["conversation"])),
            UserID(str(data["counsellor"])),
            int(data["assignment"]),
            manual=bool(data["manual"]),
        )
    if kind == "unassign":
        return Unassign(
            ConversationID(str(data["conversation"])),
            UserID(str(data["counsellor"])),
            UnassignReason(data["reason"]),
        )
    if kind == "queue":
        eta = None if data["eta"] is None else timedelta(seconds=float(data["eta"]))
        return QueuePositionChanged(
            ConversationID(str(data["conversation"])), int(data["position"]), eta
        )
    if kind == "reply":
        params = tuple((str(k), v if isinstance(v, int) else str(v)) for k, v in data["params"])
        return Reply(UserID(str(data["to"])), ReplyKey(data["key"]), params)
    if kind == "closed":
        by = data["by"]
        counsellor = data["counsellor"]
        return Closed(
            ConversationID(str(data["conversation"])),
            None if by is None else UserID(str(by)),
            None if counsellor is None else UserID(str(counsellor)),
        )
    raise ValueError(kind)
