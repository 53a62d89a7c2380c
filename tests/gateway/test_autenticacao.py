"""Which credential a handshake presents (the verification itself is ServicoTokens', tested there)."""

from __future__ import annotations

import pytest

from atendimento.gateway.autenticacao import CredencialRecusada, extrair_token, token_na_query

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


def test_auth_token_tem_preferencia_sobre_o_cabecalho() -> None:
    assert extrair_token({"token": "a"}, {"authorization": "Bearer b"}, {}) == "a"


def test_cabecalho_bearer() -> None:
    assert extrair_token(None, {"authorization": "Bearer b"}, {}) == "b"
    assert extrair_token({}, {"authorization": "bearer   b "}, {}) == "b"


def test_auth_token_com_prefixo_bearer() -> None:
    assert extrair_token({"token": "Bearer a"}, {}, {}) == "a"


def test_sem_credencial() -> None:
    assert extrair_token(None, {}, {}) is None
    assert extrair_token({"token": None}, {}, {}) is None


def test_valor_nao_texto_segue_para_a_verificacao() -> None:
    # ServicoTokens.verificar refuses it with TOKEN_INVALIDO; here it is only passed on.
    assert extrair_token({"token": 123}, {}, {}) == 123


@pytest.mark.parametrize("cabecalho", ["Basic dTpw", "Token abc", "Bearer", "Bearer "])
def test_cabecalho_que_nao_e_bearer(cabecalho: str) -> None:
    with pytest.raises(CredencialRecusada) as info:
        extrair_token(None, {"authorization": cabecalho}, {})
    assert info.value.code == "TOKEN_INVALIDO"


@pytest.mark.parametrize(
    "query",
    [
        {"token": JWT},
        {"TOKEN": "x"},
        {"access_token": JWT},
        {"jwt": [JWT]},
        {"qualquer": JWT},
        {"a": "Bearer " + JWT},
    ],
)
def test_token_na_query_e_recusado_mesmo_com_auth_token(query: dict[str, object]) -> None:
    assert token_na_query(query)
    with pytest.raises(CredencialRecusada) as info:
        extrair_token({"token": JWT}, {}, query)
    assert info.value.code == "TOKEN_INVALIDO"


def test_parametros_do_socket_io_nao_sao_token() -> None:
    assert not token_na_query({"EIO": "4", "transport": "polling", "t": "PZ3k1a9", "sid": "abc"})
