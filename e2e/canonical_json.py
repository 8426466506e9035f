"""Matrix canonical JSON and unpadded base64 (spec: appendices, "Signing JSON").

Matrix signs the canonical form of an object without its ``signatures`` and ``unsigned``
members. Every key, key id and signature is unpadded standard base64: Synapse accepts padded
values without complaint, but Element's Rust crypto then silently rejects the identity, so the
decoder here is strict on purpose.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

_UNSIGNED_MEMBERS = ("signatures", "unsigned")


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no insignificant whitespace, UTF-8 without ASCII escaping."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    ).encode("utf-8")


def signable_bytes(obj: Mapping[str, Any]) -> bytes:
    """The bytes a Matrix signature covers: the object minus ``signatures`` and ``unsigned``."""
    return canonical_json({k: v for k, v in obj.items() if k not in _UNSIGNED_MEMBERS})


def encode_unpadded(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def decode_unpadded(text: str) -> bytes:
    """Decode unpadded standard base64; padded or non-alphabet input raises ``ValueError``.

    So does a last character with unused bits set ("Zh" for "Zg"): Python decodes both to
    the same bytes, vodozemac refuses the second, and a check laxer than Element's would
    call a key or signature valid that strict clients reject.
    """
    if "=" in text or len(text) % 4 == 1:
        raise ValueError("not unpadded base64")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("not unpadded base64") from exc
    if encode_unpadded(data) != text:
        raise ValueError("not unpadded base64 (unused trailing bits set)")
    return data
