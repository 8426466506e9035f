"""Loading the crisis detector in a process that judges messages (the bot, `counsel crisis`,
the benchmarks): the process's BLAS runs one thread once the model is in.

A message is a handful of small matrix products (its embeddings, its similarity to the
labelled examples). OpenBLAS hands each to a second thread, and on a machine whose other
core is busy (the homeserver, the event loop) the hand-off costs more than it gains: 800
dev messages one at a time took 16.3 ms p50 with two threads and 6.0 ms with one, beside a
busy core (2 cores; bench/RESULTS.md). Batches of many messages are split across processes
instead. A thread setting is the process's, so it is made here, not in the core.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from threadpoolctl import threadpool_limits

from counsel_bot.conversation.crisis_flags import Judge
from counsel_bot.core.crisis import Assessment, CombinedDetector, default_lexicon_dir
from counsel_bot.core.crisis.encoder import UniversalSentenceEncoder
from counsel_bot.core.crisis.lexicon import load_lexicon, refuse_missing_languages

log = logging.getLogger(__name__)

# How long the model may take for one judgement (a burst of a few lines: milliseconds,
# bench/RESULTS.md) before the rules alone judge it. Generous: under load a judgement waits
# for a free worker thread too, and the rules miss what only the model reads.
JUDGE_LIMIT_SECONDS = 10.0


@cache
def _encoder() -> UniversalSentenceEncoder:
    # The encoder's weights (100 MB, over a second to load) are the same for every detector
    # and its forward pass keeps no state, so a process that starts the bot again (a restart
    # in place, a test suite) loads them once. Its own lock guards the first load.
    return UniversalSentenceEncoder()


def load_detector(lexicons: Path, model: Path | None) -> CombinedDetector:
    """The rules, and the model unless ``model`` is None (rules only). Lexicons and head
    are read anew each time; only the encoder is shared."""
    shipped = default_lexicon_dir()
    if lexicons.resolve() != shipped.resolve():
        refuse_missing_languages(lexicons, load_lexicon(lexicons), shipped)
    if model is not None:
        threadpool_limits(limits=1, user_api="blas")
    return CombinedDetector.load(lexicons, model, _encoder())


def bounded_judge(detector: CombinedDetector, limit: float = JUDGE_LIMIT_SECONDS) -> Judge:
    """The detector in worker threads, so the event loop never waits on it; past ``limit``
    seconds of the model's own time the rules' verdict stands alone. The judge is awaited
    while the conductor's step lock is held, so a model that hung would otherwise hold
    every youth and every alert still to be raised. A model that fails leaves the verdict
    to the rules too.

    The rules judge first, in a worker thread, and outside the limit: fast for a chat line,
    but linear in the text, and a 1 MiB hard-wrapped mail, read both ways its lines may be
    joined, took them 4.4 s on a loaded 2-core machine (the model 1.2 s more; two such
    mails at once 7.5 and 8 s each). Inside the limit, they took a model that answered in
    time for a hung one: the rules alone judged every youth's words until it ended, and
    that mail's a second time. Inline, they stood the event loop still (the sync, the
    outbox's alerts, the SMTP server, the dashboard); in a thread the loop runs between
    their steps."""

    # A judgement that outlived the limit and still runs: until it ends, the rules alone
    # judge. Each message would otherwise wait out the limit again and leave one more hung
    # thread in the loop's default executor (which also resolves host names).
    hung: set[asyncio.Future[list[Assessment]]] = set()

    async def judge(texts: Sequence[str]) -> list[Assessment]:
        ruled = await asyncio.to_thread(detector.rules.assess_many, texts)
        if hung:
            return ruled
        work = asyncio.ensure_future(asyncio.to_thread(detector.with_model, texts, ruled))
        try:
            return await asyncio.wait_for(asyncio.shield(work), limit)
        except TimeoutError:
            # The thread cannot be stopped; whatever it ends with is not needed any more.
            hung.add(work)
            work.add_done_callback(hung.discard)
            work.add_done_callback(lambda done: done.cancelled() or done.exception())
            log.warning("the crisis model took longer than %.0f s; the rules alone judge "
                        "until it ends", limit)
            return ruled
        except Exception as exc:
            # The model failed on these words (an input its encoder cannot take, memory
            # run out on a long mail): the rules have read them. Raised, it failed the
            # youth's step, and a mail was refused until its sender gave up. Only the
            # error's type is logged: its message may quote the text.
            log.error("the crisis model failed (%s); the rules alone judged the message",
                      type(exc).__name__)
            return ruled

    return judge
