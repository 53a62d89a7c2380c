"""Monitoring counts client events by outcome code without importing the domain: the same strings."""

from __future__ import annotations

from atendimento.domain.codigos import Codigo
from atendimento.monitoring.metricas_empresa import CODIGO_ERRO, CODIGO_LIMITE


def test_os_codigos_contados_sao_os_do_catalogo() -> None:
    assert (CODIGO_LIMITE, CODIGO_ERRO) == (Codigo.LIMITE_EXCEDIDO, Codigo.ERRO_INTERNO)
