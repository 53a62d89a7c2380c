"""Socket.IO v5 on top of Engine.IO: namespaces, sockets, rooms, acks, recovery."""
