"""The fast lane (``make test-fast``): every test that needs no real service, in well under a minute.

A test needs a real service when it is marked for one (``postgres``, ``redis``, ``node``, ``chromium``,
``processos``) or when it asks, directly or through other fixtures, for a fixture that starts or
reaches one (the table below): the marks are added here from the fixtures, so a new test that asks
for ``redis_url`` is in the slow lane without anyone remembering to mark it.
A test that needs no service but runs long on purpose (a bounded hunt such as schemathesis over the
whole API) is marked ``lento`` by hand.

``--fast`` deselects those. What stays runs the domain's use cases and the API on the real SQLite
storage in a temporary folder (the product's own embedded default, not a stand-in: a second
in-memory implementation of every storage port would be one more copy of each rule to keep in step),
the gateway and engine in-process or over loopback, with injected clocks where time matters.
``make test-fast`` also points PostgreSQL and Redis at a closed port and forbids the node driver, so
a test that slips into the lane while needing one of them fails loudly instead of passing slowly.
``make test`` runs everything.
"""

from __future__ import annotations

import os
from types import ModuleType

import pytest

SERVICOS = ("postgres", "redis", "node", "chromium", "processos")
# Marked by hand: no service, but far beyond the lane's budget of a few seconds per test.
LENTOS = ("lento",)

# Fixtures that start or reach a real service, and the mark each implies.
FIXTURES_DE_SERVICO: dict[str, str] = {
    "pg_servidor": "postgres",
    "redis_url": "redis",
    "redis_proprio": "redis",
    "navegador": "chromium",
    "node_instalado": "node",
    "node_modules": "node",
    "node": "node",
    "clientes": "node",  # the gateway's and monitoring's socket.io-client drivers
}

# Helper modules whose use implies a service: a test module holding anything of theirs (a class, a
# function, the module itself) is marked, whichever way it reaches them.
MODULOS_DE_SERVICO: dict[str, str] = {
    "apoio_node": "node",
    "apoio_navegador": "chromium",
    "subprocess": "processos",
    "apoio_chromium": "chromium",
    "apoio_cluster": "redis",
    "apoio_instancias": "processos",  # `atendimento serve` in a child process
}

# Set by `make test-fast`: the node driver refuses to start (tests/apoio_node.py).
SEM_SERVICOS = "ATENDIMENTO_TEST_SEM_SERVICOS"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast",
        action="store_true",
        help="only the tests that need no PostgreSQL, Redis, node, Chromium or child processes, nor run long",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "chromium: drives Debian's chromium (Playwright)")
    config.addinivalue_line("markers", "processos: starts `atendimento serve` or other child processes")
    config.addinivalue_line("markers", "lento: no service, but too long for the fast lane")


def _marcas_do_modulo(modulo: ModuleType | None) -> set[str]:
    marcas: set[str] = set()
    for valor in vars(modulo).values() if modulo is not None else ():
        origem = valor.__name__ if isinstance(valor, ModuleType) else getattr(valor, "__module__", None)
        if isinstance(origem, str):
            marca = MODULOS_DE_SERVICO.get(origem) or MODULOS_DE_SERVICO.get(origem.rpartition(".")[2])
            if marca is not None:
                marcas.add(marca)
    return marcas


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    por_modulo: dict[str, set[str]] = {}
    for item in items:
        modulo = getattr(item, "module", None)
        chave = getattr(modulo, "__name__", "")
        if chave not in por_modulo:
            por_modulo[chave] = _marcas_do_modulo(modulo)
        marcas = set(por_modulo[chave])
        marcas.update(m for nome in getattr(item, "fixturenames", ()) if (m := FIXTURES_DE_SERVICO.get(nome)))
        for marca in marcas:
            item.add_marker(marca)
    if not config.getoption("--fast"):
        return
    mantidos: list[pytest.Item] = []
    fora: list[pytest.Item] = []
    for item in items:
        lento = any(item.get_closest_marker(m) is not None for m in SERVICOS + LENTOS)
        (fora if lento else mantidos).append(item)
    if fora:
        config.hook.pytest_deselected(items=fora)
    items[:] = mantidos


def servicos_proibidos() -> bool:
    """True inside `make test-fast`: a test reaching a real service there is a mistake."""
    return os.environ.get(SEM_SERVICOS) == "1"
