"""atendimento: the realtime gateway and API of an omnichannel customer-service product.

The folders are the architecture, dependencies pointing inward:

- ``engine``   Socket.IO v5 / Engine.IO v4: a protocol core with no I/O and a thin ASGI transport.
               Knows nothing of tickets.
- ``domain``   tickets, mensagens, atendentes, empresas: the rules, and the ports they need.
- ``storage``  SQLAlchemy models, Alembic migrations, row-level security (PostgreSQL) or SQLite.
- ``identity`` JWT tokens and password hashes.
- ``gateway``  the /atendimento namespace on the engine; the one place that routes domain events.
- ``cluster``  Redis between instances: fan-out, presence, shared counters.
- ``api``      the REST routes (FastAPI).
- ``console``  the live agent console served to browsers.
- ``cli``      the ``atendimento`` command.
"""

__version__ = "0.1.0"
