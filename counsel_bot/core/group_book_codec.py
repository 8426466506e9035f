"""The `GroupBook` as bytes and back: what the conversation part keeps sealed in the store
(`conversation/group_keys.BOOK_KEY`). Books written before a field existed read as they
did then."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from counsel_bot.core.groups import Group, GroupBook, GroupState, Seat
from counsel_bot.core.ids import RoomID, UserID


def encode_book(book: GroupBook) -> bytes:
    return json.dumps({"next": book.next_number, "groups": [_encode(g) for g in book.groups]},
                      separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def decode_book(raw: bytes) -> GroupBook:
    data = json.loads(raw)
    return GroupBook(tuple(_decode(g) for g in data["groups"]), int(data["next"]))


def _encode(g: Group) -> dict[str, Any]:
    return {"n": g.number, "topic": g.topic, "start": g.start.isoformat(),
            "minutes": int(g.duration.total_seconds() // 60), "max": g.max_seats,
            "host": g.host, "state": g.state.value, "named": g.named,
            "ended": g.ended_at.isoformat() if g.ended_at else None,
            "seats": [[s.youth, s.nickname, s.home_room] for s in g.seats],
            "removed": sorted(g.removed), "muted": sorted(g.muted),
            "offices": sorted(g.offices),
            "gone": [[s.youth, s.nickname, s.home_room] for s in g.gone],
            "in": sorted(g.stepped_in), "called": sorted(g.called),
            "called_leads": sorted(g.called_leads)}


def _decode(d: dict[str, Any]) -> Group:
    return Group(
        int(d["n"]), str(d["topic"]), datetime.fromisoformat(d["start"]),
        timedelta(minutes=int(d["minutes"])), int(d["max"]), UserID(d["host"]),
        tuple(Seat(UserID(y), str(n), RoomID(r)) for y, n, r in d["seats"]),
        frozenset(UserID(u) for u in d["removed"]), frozenset(d["muted"]),
        GroupState(d["state"]),
        datetime.fromisoformat(d["ended"]) if d.get("ended") else None, int(d["named"]),
        frozenset(str(o) for o in d.get("offices", ())),  # books from before offices: none
        tuple(Seat(UserID(y), str(n), RoomID(r)) for y, n, r in d.get("gone", ())),
        frozenset(UserID(u) for u in d.get("in", ())),  # books from before: nobody
        frozenset(UserID(u) for u in d.get("called", ())),
        # Books from before: nobody's call ends with a demotion, as then.
        frozenset(UserID(u) for u in d.get("called_leads", ())))
