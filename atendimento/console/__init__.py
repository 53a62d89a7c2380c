"""The agent console: static files built from ``console/`` (``make console``) into ``static/``."""

from atendimento.console.servir import PASTA_ESTATICA, build_console

__all__ = ["PASTA_ESTATICA", "build_console"]
