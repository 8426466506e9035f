"""Sans-I/O cores: routing/, crisis/, commands, opening hours, escalation, language, video,
mail deadlines, texts (messages), effects, ids and the clock. Pure functions and frozen
dataclasses that take events and return decisions; no network, no store, no asyncio.

May import: the standard library (not asyncio, sockets, sqlite3) and pure libraries (jwt,
nacl, e2e's signature checks); nothing else of counsel_bot.
"""
