"""Connect the demo's people to /atendimento and keep them connected, to watch them in the Admin UI.

    .venv/bin/python examples/agentes_demo.py [http://127.0.0.1:3001]

Each demo user (password ``demo-senha``, loaded by ``atendimento demo``) logs in through
``POST /auth/login`` and connects with python-socketio (installed by ``make test``'s dev
dependencies) over WebSocket; Ctrl-C disconnects them all. docs/monitoring.md uses it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.request

import socketio

PESSOAS = ["ana@demo.local", "bruno@demo.local", "gestor@demo.local", "carla@outra.local"]
SENHA = "demo-senha"


def entrar(base: str, email: str) -> str:
    pedido = urllib.request.Request(
        base + "/auth/login",
        data=json.dumps({"email": email, "senha": SENHA}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(pedido, timeout=10) as resposta:
        return str(json.load(resposta)["data"]["access_token"])


async def principal(base: str) -> None:
    clientes = []
    for email in PESSOAS:
        cliente = socketio.AsyncClient(reconnection=True)
        await cliente.connect(
            base, namespaces=["/atendimento"], auth={"token": entrar(base, email)}, transports=["websocket"]
        )
        print(f"{email}: connected as {cliente.get_sid('/atendimento')}")
        clientes.append(cliente)
    print("connected; Ctrl-C to disconnect them")
    try:
        await asyncio.Event().wait()
    finally:
        for cliente in clientes:
            await cliente.disconnect()


if __name__ == "__main__":
    try:
        asyncio.run(principal(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3001"))
    except KeyboardInterrupt:
        pass
