"""Engine.IO v4 over ASGI: long-polling, WebSocket and the upgrade between them, on ``protocol/``.

Import ``uvicorn_ws`` only where uvicorn runs the server; nothing else here depends on uvicorn.
"""

from atendimento.engine.engineio.config import EngineConfig
from atendimento.engine.engineio.link import RAW_TRANSPORT_EXTENSION
from atendimento.engine.engineio.server import EngineHandler, EngineIOServer
from atendimento.engine.engineio.session import EngineSession

__all__ = ["RAW_TRANSPORT_EXTENSION", "EngineConfig", "EngineHandler", "EngineIOServer", "EngineSession"]
