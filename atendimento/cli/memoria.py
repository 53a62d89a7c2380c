"""The serving process's garbage collector, set once before uvicorn starts.

Why (issue 13): under the e2e benchmark the server spent seconds in the cyclic collector. Everything
imported at start-up (FastAPI's routes and pydantic models, SQLAlchemy's tables and compiled
statements, the engine) is hundreds of thousands of long-lived objects that every full collection
walked again, and with CPython's default first threshold (700 net allocations) a request's own
objects, alive across its awaits, were collected several times and promoted before they died.

``gc.freeze()`` moves what exists after start-up into a generation the collector never scans; a
larger first threshold lets a request's objects die young, before a collection sees them. Cycles
are still collected: this changes how often, not whether.
"""

from __future__ import annotations

import gc

# Net container allocations between young collections (CPython's default: 700), and how many young
# collections make a middle one, and middle ones a full one (defaults 10 and 10).
LIMIARES_GC = (20_000, 20, 20)


def preparar_gc() -> None:
    """Collect what start-up left behind, freeze the rest, raise the thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*LIMIARES_GC)
