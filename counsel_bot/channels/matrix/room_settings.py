"""The state every room the bot creates starts with: encrypted, and only the bot manages
membership and state."""

from __future__ import annotations

from typing import Any

ENCRYPTION = {"type": "m.room.encryption", "state_key": "",
              "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


def counselling_power_levels() -> dict[str, Any]:
    """In rooms the bot creates, only the bot manages membership and state: a counsellor
    cannot invite others or read on after being removed. No "users" entry: the creator's
    power comes from the preset (or, since room version 12, from being the creator), and
    everyone else stays at the default."""
    return {
        "users_default": 0, "events_default": 0, "state_default": 100,
        "invite": 100, "kick": 100, "ban": 100, "redact": 50,
        "events": {"m.room.encryption": 100, "m.room.power_levels": 100},
    }
