"""The REST API (FastAPI): ``build_api`` builds it from injected collaborators."""

from atendimento.api.error_responses import resposta_erro
from atendimento.api.login_throttle import LimitadorLogin, PoliticaLogin
from atendimento.api.portas import ConsultaPresenca, VerificacaoProntidao
from atendimento.api.wiring import build_api

__all__ = [
    "ConsultaPresenca",
    "LimitadorLogin",
    "PoliticaLogin",
    "VerificacaoProntidao",
    "build_api",
    "resposta_erro",
]
