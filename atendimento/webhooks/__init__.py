"""Channels out: the relay that delivers the outbox to each channel's webhook endpoint, signed per
Standard Webhooks, retried, in order per ticket (docs/channels.md). ``wiring.build_relay`` builds it."""
