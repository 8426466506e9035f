"""The process: runner (builds store, conductor, bots, web and timers and runs them),
service (`counsel up`: Synapse, entry page and bot together), the data lock, vault rotation,
stores (SQLite or PostgreSQL, as configured) and standby (one active bot per PostgreSQL store).

May import: everything below it (core, store, metrics, web, conversation, config, channels);
only cli.py imports runtime.
"""
