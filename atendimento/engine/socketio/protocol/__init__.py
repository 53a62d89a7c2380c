"""The Socket.IO v5 packet codec, with no I/O."""
