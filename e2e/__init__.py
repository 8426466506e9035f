"""counsel's cryptography glue: the at-rest vault, cross-signing, device trust."""
