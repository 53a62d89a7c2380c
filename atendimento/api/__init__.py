"""The REST API (FastAPI): ``build_api`` builds it from injected collaborators."""

from atendimento.api.fabrica import build_api
from atendimento.api.limites import LimitadorLogin, PoliticaLogin
from atendimento.api.portas import ConsultaPresenca, VerificacaoProntidao

__all__ = ["ConsultaPresenca", "LimitadorLogin", "PoliticaLogin", "VerificacaoProntidao", "build_api"]
