"""The agent console: static files built from ``console/`` (``make console``) into ``static/``."""

from atendimento.console.servir import PASTA_ESTATICA, montar_console

__all__ = ["PASTA_ESTATICA", "montar_console"]
