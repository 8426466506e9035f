"""Everything between counsel and the homeserver: embedded Synapse, admin API, bridges."""
