"""Durable state: the `Store` contract, in-memory, SQLite and PostgreSQL implementations, and
the active/standby lock of the PostgreSQL store (leadership)."""

from counsel_bot.store.contract import (
    ConversationRecord,
    IntakeItem,
    IntakeMessage,
    NewConversation,
    OutboxEntry,
    Resealer,
    SchemaTooNewError,
    Sealer,
    Store,
    StoreBusyError,
    StoreConsistencyError,
    StoreError,
    StoreFencedError,
    StoreFullError,
    StoreRefusedError,
    Transition,
)
from counsel_bot.store.memory import MemoryStore
from counsel_bot.store.migrations import MIGRATIONS, SCHEMA_VERSION, migrate
from counsel_bot.store.outbox import action_of, entries_for
from counsel_bot.store.postgres import PostgresStore
from counsel_bot.store.sqlite import SqliteStore

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "ConversationRecord",
    "IntakeItem",
    "IntakeMessage",
    "MemoryStore",
    "NewConversation",
    "OutboxEntry",
    "PostgresStore",
    "Resealer",
    "SchemaTooNewError",
    "Sealer",
    "SqliteStore",
    "Store",
    "StoreBusyError",
    "StoreConsistencyError",
    "StoreError",
    "StoreFencedError",
    "StoreFullError",
    "StoreRefusedError",
    "Transition",
    "action_of",
    "entries_for",
    "migrate",
]
