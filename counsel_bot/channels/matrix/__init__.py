"""The Matrix adapter (matrix-nio): one sync loop, the bot's login/session, the executor.

May import: core, store, metrics, web, conversation, and channels' own outbox worker and mail.
"""
