"""The REST API (FastAPI): ``create_api`` builds it from injected collaborators."""

from atendimento.api.fabrica import create_api
from atendimento.api.limites import LimitadorLogin, PoliticaLogin
from atendimento.api.portas import ConsultaPresenca, VerificacaoProntidao

__all__ = ["ConsultaPresenca", "LimitadorLogin", "PoliticaLogin", "VerificacaoProntidao", "create_api"]
