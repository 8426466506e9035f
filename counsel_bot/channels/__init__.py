"""Where events come in and effects go out: matrix/ (the nio bot, its session and the
executor that performs effects as Matrix calls), mail/ (SMTP in and out) and the outbox
worker that hands each stored effect to the executor, in order and lane by lane.

May import: core, store, metrics, web, conversation. Not runtime (the runner builds us).
"""
