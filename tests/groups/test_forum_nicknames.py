"""Forum nicknames never name two youths: a post appears under a name no other post of that
forum has had, so readers never take two youths for one (nor one youth's answers for
another's). Posts are not linked to their author once approved, so a youth's next post
gets a new name too: no name is ever handed out twice in a forum, across restarts."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count
from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from counsel_bot.config import Settings, StaffSettings
from counsel_bot.conversation.conductor import Conductor
from counsel_bot.conversation.forum import ForumDesk, ForumTopic
from counsel_bot.core import forum_nicknames
from counsel_bot.core.crisis import CrisisDetector, default_lexicon_dir
from counsel_bot.core.effects import SayToStaff, decode_effect
from counsel_bot.core.group_effects import PostToForum
from counsel_bot.core.groups import NICKNAMES
from counsel_bot.core.ids import EventID, RoomID, UserID
from counsel_bot.runtime.runner import policy_from
from counsel_bot.store import MemoryStore
from tests.store.conftest import AeadSealer

BEN = UserID("@ben:x")
AT = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)


@settings(max_examples=200, deadline=None)
@given(taken=st.integers(0, 1000), rng=st.randoms(use_true_random=False))
def test_a_drawn_name_is_never_one_already_handed_out(taken: int, rng: Random) -> None:
    names: set[str] = set()
    randbelow = rng.randrange
    for _ in range(taken):
        names.add(forum_nicknames.draw(names, randbelow))
    before = set(names)
    name = forum_nicknames.draw(names, randbelow)
    assert name not in before
    assert name.split(" ")[0] in NICKNAMES


def test_names_grow_a_digit_before_half_of_them_are_taken() -> None:
    assert forum_nicknames.space(0) == (10, 90)
    assert forum_nicknames.space(899) == (10, 90)  # 1,800 two-digit names, half of them
    assert forum_nicknames.space(900) == (100, 900)
    assert forum_nicknames.space(9000) == (1000, 9000)


def test_an_unlucky_draw_still_ends_with_a_free_name() -> None:
    """Whatever the randomness gives, drawing ends: after a few taken names in a row the
    first free one in order is taken."""
    always_first = forum_nicknames.draw({f"{NICKNAMES[0]} 10"}, lambda _n: 0)
    assert always_first == f"{NICKNAMES[0]} 11"


class Forum:
    def __init__(self) -> None:
        self.store = MemoryStore(AeadSealer())
        self.events = count()
        self.seen = 0

    async def start(self) -> Forum:
        policy = policy_from(Settings(staff=StaffSettings(counsellors=(BEN,))))
        detector = CrisisDetector.from_directory(default_lexicon_dir())
        self.c = await Conductor.open(self.store, detector, policy, AT)
        await self.c.sync_roster(AT)
        self.forum = ForumDesk(self.c, (ForumTopic("schule", "Schule und Prüfungen"),))
        await self.forum.load()
        self.c.addons += [self.forum]
        return self

    async def post(self, i: int, *, approve: bool = True) -> str:
        """Youth ``i`` posts; returns the nickname the post got."""
        await self.c.youth_wrote(RoomID(f"!home{i}:x"), UserID(f"@y{i}:x"), None,
                                 EventID(f"$e{next(self.events)}"),
                                 f"forum schule Beitrag Nummer {i}", AT)
        [new] = [e for e in await self._new() if isinstance(e, SayToStaff)]
        post_id = dict(new.params)["id"]
        if not approve:
            return str(post_id)
        await self.c.staff_wrote(RoomID("!staff:x"), BEN, EventID(f"$e{next(self.events)}"),
                                 f"!forum approve {post_id}", AT)
        [posted] = [e for e in await self._new() if isinstance(e, PostToForum)]
        return posted.nickname

    async def _new(self) -> list[object]:
        pending = await self.store.pending_outbox()
        effects = [decode_effect(e.payload) for e in pending[self.seen:]]
        self.seen = len(pending)
        return effects


async def test_forum_nicknames_never_name_two_youths() -> None:
    """With 300 posts from 300 youths, names drawn with no regard to those already shown
    (1,800 of them) clash all but certainly (the chance of none is about 1e-11)."""
    forum = await Forum().start()
    shown = [await forum.post(i) for i in range(300)]
    assert len(set(shown)) == len(shown)


async def test_a_restarted_bot_does_not_hand_out_a_name_again() -> None:
    forum = await Forum().start()
    before = {await forum.post(i) for i in range(20)}
    waiting = await forum.post(20, approve=False)
    again = ForumDesk(forum.c, (ForumTopic("schule", "Schule und Prüfungen"),))
    await again.load()
    assert before <= again.nicknames["schule"]
    assert len(again.nicknames["schule"]) == 21  # the waiting post's name is kept for it
    forum.c.addons = [again]
    forum.forum = again
    assert waiting in again.pending
    after = {await forum.post(i) for i in range(21, 60)}
    assert not after & before
