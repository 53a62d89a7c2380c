"""The ASGI transport: long-polling, WebSocket and the upgrade between them, plus the uvicorn fast path.

Import ``uvicorn_ws`` only where uvicorn runs the server; nothing else here depends on uvicorn.
"""

from .config import EngineConfig
from .engine import EngineHandler, EngineServer
from .link import RAW_TRANSPORT_EXTENSION
from .session import EngineSession

__all__ = ["RAW_TRANSPORT_EXTENSION", "EngineConfig", "EngineHandler", "EngineServer", "EngineSession"]
