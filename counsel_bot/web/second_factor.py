"""Two-factor sign-in for the team-lead dashboard: TOTP (RFC 6238) and recovery codes.

Rules this module keeps:
- The TOTP secret (base32, 160 bits, from `pyotp`) and the recovery codes' hashes are kept
  sealed in the store (``totp:<team lead>``), never in a log, never in the clear.
- A code is accepted for the current 30-second step and one step either side (clock drift),
  and each step only once per account: a code seen over someone's shoulder cannot be used
  again.
- Ten recovery codes are shown once at enrolment and stored only as salted HMAC-SHA-256
  hashes (they carry 50 random bits each, so a slow hash adds nothing); each works once.
- Time comes in as an argument; `pyotp` computes codes for a given moment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

import pyotp
import segno

from counsel_bot.store import Store

ISSUER = "counsel"
RECOVERY_CODES = 10
_STEP_SECONDS = 30
_DRIFT_STEPS = 1


class SecondFactorStore(Protocol):
    async def load(self, user_id: str) -> bytes | None: ...

    async def save(self, user_id: str, record: bytes) -> None: ...


class StoreSecondFactors:
    """Enrolments kept sealed in the bot's store (``totp:<team lead>``)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def load(self, user_id: str) -> bytes | None:
        return await self._store.get_sealed_setting(f"totp:{user_id}")

    async def save(self, user_id: str, record: bytes) -> None:
        await self._store.set_sealed_setting(f"totp:{user_id}", record)

    async def forget(self, user_id: str) -> bool:
        """The lead's second factor gone (`counsel web reset-second-factor`); False if they
        had none."""
        if await self.load(user_id) is None:
            return False
        await self._store.set_sealed_setting(f"totp:{user_id}", None)
        return True


@dataclass(frozen=True)
class Enrolment:
    secret: str
    salt: str
    recovery_hashes: tuple[str, ...]
    # The last TOTP step accepted: a code is good once.
    last_step: int = -1

    def encode(self) -> bytes:
        return json.dumps({"secret": self.secret, "salt": self.salt,
                           "recovery": list(self.recovery_hashes),
                           "last_step": self.last_step}).encode()

    @classmethod
    def decode(cls, raw: bytes) -> Enrolment:
        data = json.loads(raw)
        return cls(str(data["secret"]), str(data["salt"]),
                   tuple(str(h) for h in data["recovery"]), int(data["last_step"]))


def new_secret() -> str:
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, user_id: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user_id, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The enrolment QR code as inline SVG (no image request, no inline style: CSP holds)."""
    return str(segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff"))


def new_recovery_codes() -> list[str]:
    """Ten codes like ``k3xq-7m2p-ab``: 50 random bits each, easy to type."""
    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(alphabet) for _ in range(10))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


def enrol(secret: str, recovery_codes: list[str]) -> Enrolment:
    salt = base64.b64encode(secrets.token_bytes(16)).decode()
    return Enrolment(secret, salt, tuple(_hash(salt, c) for c in recovery_codes))


def code_matches(secret: str, code: str, now: datetime) -> int | None:
    """The TOTP step ``code`` belongs to (now, or one step either side), or None."""
    if not looks_like_totp(code):
        return None
    given = _normal(code)
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // _STEP_SECONDS
    for candidate in range(step - _DRIFT_STEPS, step + _DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(candidate * _STEP_SECONDS), given):
            return candidate
    return None


def looks_like_totp(code: str) -> bool:
    """A six-digit code (as typed, spaces allowed), not a recovery code."""
    given = _normal(code)
    return given.isdigit() and len(given) == 6


def verify(enrolment: Enrolment, code: str, now: datetime) -> Enrolment | None:
    """The enrolment after a good code (its step or recovery code used up), else None."""
    step = code_matches(enrolment.secret, code, now)
    if step is not None:
        return replace(enrolment, last_step=step) if step > enrolment.last_step else None
    hashed = _hash(enrolment.salt, code)
    remaining = tuple(h for h in enrolment.recovery_hashes if not hmac.compare_digest(h, hashed))
    if len(remaining) == len(enrolment.recovery_hashes):
        return None
    return replace(enrolment, recovery_hashes=remaining)


def _normal(code: str) -> str:
    """As typed, with any keyboard's digits ("５", "٥") as the ASCII ones the code is made of:
    the same for every ASCII recovery code, so hashes kept from before still match."""
    text = unicodedata.normalize("NFKC", code).strip().lower()
    return "".join(str(int(ch)) if ch.isdecimal() else ch for ch in text if ch not in " -")


def _hash(salt: str, code: str) -> str:
    return hmac.new(salt.encode(), _normal(code).encode(), hashlib.sha256).hexdigest()
