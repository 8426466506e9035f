"""Mail counselling: inbound mail becomes a conversation, the counsellor's reply goes out.

May import: core, store, metrics, web, conversation (and homeserver_bridge.mail for SMTP).
"""
