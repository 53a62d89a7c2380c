"""Seeing the product run: the Socket.IO Admin UI's ``/admin`` namespace, per-tenant metrics, loop lag.

Why its own package (and not gateway/ or engine/): it observes the engine through its generic hooks
(``engine/socketio/monitor.py``) and never touches tickets, so the engine stays generic; it is not part of the
/atendimento protocol, so the gateway stays the contract's; and what a socket means (user, tenant,
role) comes in as plain callables from the composition root (app.py), so nothing here imports the
gateway, the domain or the cluster. Layering: ``app → monitoring → engine``.
"""
