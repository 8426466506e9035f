"""The staff device check, with keys made here (no server)."""

from __future__ import annotations

import copy
from typing import Any

from counsel_bot.core.device_trust_check import (
    DeviceTrustCheck,
    TrustNews,
    check_devices,
    decide,
    decode_unsigned,
    encode_unsigned,
)
from counsel_bot.core.ids import UserID
from e2e.canonical_json import encode_unpadded
from e2e.cross_signing import CrossSigningSeeds, signed_device_keys
from tests.e2e.crosssign_fakes import device_keys, query_answer

USER = UserID("@counsellor:counsel.test")


def _answer(*, sign: tuple[str, ...], devices: tuple[str, ...] = ("PHONE", "LAPTOP")) -> tuple[
    CrossSigningSeeds, dict[str, Any]
]:
    seeds = CrossSigningSeeds.generate()
    first = device_keys(USER, devices[0])
    answer = query_answer(seeds, first, USER)
    for device_id in devices[1:]:
        answer["device_keys"][USER][device_id] = device_keys(USER, device_id)
    for device_id in sign:
        _add_signature(answer, seeds, device_id)
    return seeds, answer


def _add_signature(answer: dict[str, Any], seeds: CrossSigningSeeds, device_id: str) -> None:
    """What the server does with a signature upload: merge it beside the device's own."""
    keys = answer["device_keys"][USER][device_id]
    signed = signed_device_keys(seeds, USER, device_id, keys)
    keys["signatures"][USER].update(signed["signatures"][USER])


def test_all_devices_signed_by_the_owner() -> None:
    seeds, answer = _answer(sign=("PHONE", "LAPTOP"))
    check = check_devices(answer, USER)
    assert check == DeviceTrustCheck(USER, has_identity=True, unsigned_devices=(), devices=2,
                                     identity=seeds.master_public,
                                     signed_devices=("LAPTOP", "PHONE"))
    assert check.all_signed


def test_a_new_login_that_was_not_verified_is_named() -> None:
    _, answer = _answer(sign=("PHONE",))
    check = check_devices(answer, USER)
    assert check.has_identity
    assert check.unsigned_devices == ("LAPTOP",)
    assert not check.all_signed


def test_no_cross_signing_identity_leaves_every_device_unsigned() -> None:
    answer = {"device_keys": {USER: {d: device_keys(USER, d) for d in ("B", "A")}}}
    check = check_devices(answer, USER)
    assert check == DeviceTrustCheck(USER, has_identity=False, unsigned_devices=("A", "B"),
                                     devices=2)


def test_a_self_signing_key_not_signed_by_the_master_key_is_no_identity() -> None:
    _, answer = _answer(sign=("PHONE", "LAPTOP"))
    ssk = answer["self_signing_keys"][USER]
    ssk["signatures"] = {USER: {k: encode_unpadded(bytes(64)) for k in ssk["signatures"][USER]}}
    check = check_devices(answer, USER)
    assert not check.has_identity
    assert check.unsigned_devices == ("LAPTOP", "PHONE")


def test_a_signature_by_someone_elses_self_signing_key_does_not_count() -> None:
    _, answer = _answer(sign=(), devices=("PHONE",))
    other = CrossSigningSeeds.generate()
    _add_signature(answer, other, "PHONE")
    assert check_devices(answer, USER).unsigned_devices == ("PHONE",)


def test_padded_base64_signature_is_refused_as_element_does() -> None:
    _, answer = _answer(sign=("PHONE",), devices=("PHONE",))
    device = copy.deepcopy(answer["device_keys"][USER]["PHONE"])
    for key_id, signature in device["signatures"][USER].items():
        device["signatures"][USER][key_id] = signature + "=="
    answer["device_keys"][USER]["PHONE"] = device
    assert check_devices(answer, USER).unsigned_devices == ("PHONE",)


def test_a_user_without_devices_has_nothing_unreadable() -> None:
    check = check_devices({"device_keys": {}}, USER)
    assert check.all_signed
    assert not check.has_identity


def test_other_users_in_the_answer_are_ignored() -> None:
    _, answer = _answer(sign=("PHONE", "LAPTOP"))
    other = UserID("@other:counsel.test")
    answer["device_keys"][other] = {"X": device_keys(other, "X")}
    assert check_devices(answer, USER).all_signed


def _check(*unsigned: str) -> DeviceTrustCheck:
    return DeviceTrustCheck(USER, has_identity=True, unsigned_devices=tuple(sorted(unsigned)))


def test_decide_warns_only_about_news_and_clears_once() -> None:
    first = decide(frozenset(), _check("A"))
    assert first.news is TrustNews.NEW_UNSIGNED
    assert first.unsigned == {"A"}
    # The same unsigned device again (e.g. a display-name change): no repeated warning.
    assert decide(first.unsigned, _check("A")).news is TrustNews.NOTHING
    second = decide(first.unsigned, _check("A", "B"))
    assert second.news is TrustNews.NEW_UNSIGNED
    assert second.unsigned == {"A", "B"}
    # One of two verified: still a warning standing, nothing new to say.
    assert decide(second.unsigned, _check("B")).news is TrustNews.NOTHING
    cleared = decide(frozenset({"B"}), _check())
    assert cleared.news is TrustNews.CLEARED
    assert cleared.unsigned == frozenset()
    assert decide(frozenset(), _check()).news is TrustNews.NOTHING


def test_unsigned_devices_round_trip_through_the_store_setting() -> None:
    devices = frozenset({"ABC", "with space", "Ünï"})
    assert decode_unsigned(encode_unsigned(devices)) == devices
    assert decode_unsigned(None) == frozenset()
    assert decode_unsigned("not json") == frozenset()


def test_the_check_names_the_identity_and_the_sessions_it_vouches_for() -> None:
    seeds, answer = _answer(sign=("PHONE",))
    check = check_devices(answer, USER)
    assert check.identity == seeds.master_public
    assert check.signed_devices == ("PHONE",)
    bare = {"device_keys": {USER: {"A": device_keys(USER, "A")}}}
    assert check_devices(bare, USER).identity is None


def test_decide_tells_a_replaced_identity_before_anything_else() -> None:
    """Whoever has a counsellor's password can reset their cross-signing identity and sign
    a session of their own with it: that session then counts as signed, and only the
    counsellor's own sessions look unsigned. The change itself is the news."""
    known = "MASTER-BEFORE"
    replaced = DeviceTrustCheck(USER, has_identity=True, unsigned_devices=("PHONE",),
                                identity="MASTER-AFTER", signed_devices=("STRANGER",))
    assert decide(frozenset(), replaced, known).news is TrustNews.IDENTITY_CHANGED
    same = DeviceTrustCheck(USER, has_identity=True, unsigned_devices=(),
                            identity=known, signed_devices=("PHONE",))
    assert decide(frozenset(), same, known).news is TrustNews.NOTHING
    # The first identity seen is remembered, not news.
    assert decide(frozenset(), same, None).news is TrustNews.NOTHING
