"""The domain: entities, rules, errors, the publisher port and the service (no HTTP, no sockets)."""
