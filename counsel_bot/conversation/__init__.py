"""What the bot does with a conversation: the conductor (each event becomes one store
transition: router state, sealed intake, outbox of effects), its parts (welcome, crisis
flags, supervision, video calls, deletion, feedback, first reply, staff events) and retention.

May import: core, store, metrics, web (the dashboard's CrisisDetail). No Matrix, no mail.
"""
