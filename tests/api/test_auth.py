"""POST /auth/login (same 401, throttling) and GET /auth/me (every token refusal code)."""

from __future__ import annotations

import time

import jwt

from atendimento.api.login_throttle import LimitadorLogin, PoliticaLogin
from atendimento.api.saidas import LoginSaida, UsuarioSaida

from .apoio import SEGREDO, SENHA_DEMO, Ambiente, assert_erro, assert_ok


async def test_login_devolve_token_e_usuario(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    resposta = await amb.cliente.post("/auth/login", json={"email": "ana@demo.local", "senha": SENHA_DEMO})
    data = assert_ok(resposta, 200, LoginSaida)
    assert data["token_type"] == "Bearer"
    assert data["expires_in"] == amb.tokens.ttl_seconds
    assert data["user"]["email"] == "ana@demo.local"
    assert data["user"]["role"] == "atendente"
    assert "senha" not in str(data["user"]).lower()
    identidade = amb.tokens.verificar(data["access_token"])
    assert identidade.usuario_id == data["user"]["id"]
    assert identidade.empresa_id == data["user"]["empresaId"]
    assert identidade.nome == data["user"]["nome"]
    claims = jwt.decode(data["access_token"], SEGREDO, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == amb.tokens.ttl_seconds


async def test_login_token_serve_para_a_api(amb: Ambiente) -> None:
    resposta = await amb.cliente.post("/auth/login", json={"email": "gestor@demo.local", "senha": SENHA_DEMO})
    token = resposta.json()["data"]["access_token"]
    me = await amb.cliente.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert assert_ok(me, 200, UsuarioSaida)["email"] == "gestor@demo.local"


async def test_login_email_sem_diferenca_de_caixa(amb: Ambiente) -> None:
    resposta = await amb.cliente.post("/auth/login", json={"email": " Ana@Demo.LOCAL ", "senha": SENHA_DEMO})
    assert resposta.status_code == 200


async def test_login_mesmo_401_para_email_desconhecido_e_senha_errada(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    errada = await amb.cliente.post("/auth/login", json={"email": "ana@demo.local", "senha": "errada"})
    desconhecido = await amb.cliente.post("/auth/login", json={"email": "ninguem@demo.local", "senha": "x"})
    assert_erro(errada, 401, "CREDENCIAIS_INVALIDAS")
    assert_erro(desconhecido, 401, "CREDENCIAIS_INVALIDAS")
    assert errada.json() == desconhecido.json()
    assert errada.headers.get("www-authenticate") == desconhecido.headers.get("www-authenticate")


async def test_login_limita_falhas_por_email_e_ip(amb: Ambiente) -> None:
    for _ in range(5):
        assert_erro(
            await amb.cliente.post("/auth/login", json={"email": "bruno@demo.local", "senha": "x"}),
            401,
            "CREDENCIAIS_INVALIDAS",
        )
    bloqueada = await amb.cliente.post("/auth/login", json={"email": "bruno@demo.local", "senha": "x"})
    assert_erro(bloqueada, 429, "LIMITE_EXCEDIDO")
    assert 1 <= int(bloqueada.headers["retry-after"]) <= 60
    # Even the right password waits: otherwise the 6th guess would still be tested.
    certa = await amb.cliente.post("/auth/login", json={"email": "bruno@demo.local", "senha": SENHA_DEMO})
    assert_erro(certa, 429, "LIMITE_EXCEDIDO")
    # Another account from the same address is not locked by bruno's failures.
    outra = await amb.cliente.post("/auth/login", json={"email": "ana@demo.local", "senha": SENHA_DEMO})
    assert outra.status_code == 200


async def test_login_limite_ignora_caixa_do_email(amb: Ambiente) -> None:
    for email in (
        "Bruno@demo.local",
        "BRUNO@demo.local",
        "bruno@DEMO.local",
        " bruno@demo.local",
        "bruno@demo.local",
    ):
        assert (await amb.cliente.post("/auth/login", json={"email": email, "senha": "x"})).status_code == 401
    resposta = await amb.cliente.post("/auth/login", json={"email": "bruno@demo.local", "senha": "x"})
    assert_erro(resposta, 429, "LIMITE_EXCEDIDO")


async def test_login_sucesso_zera_falhas(amb: Ambiente) -> None:
    for _ in range(4):
        await amb.cliente.post("/auth/login", json={"email": "ana@demo.local", "senha": "x"})
    assert (
        await amb.cliente.post("/auth/login", json={"email": "ana@demo.local", "senha": SENHA_DEMO})
    ).status_code == 200
    for _ in range(5):
        resposta = await amb.cliente.post("/auth/login", json={"email": "ana@demo.local", "senha": "x"})
        assert_erro(resposta, 401, "CREDENCIAIS_INVALIDAS")


async def test_login_limite_por_endereco(amb_fabrica) -> None:  # type: ignore[no-untyped-def]
    limitador = LimitadorLogin(politica=PoliticaLogin(falhas_por_endereco=3))
    amb: Ambiente = await amb_fabrica(limitador_login=limitador)
    for i in range(3):
        resposta = await amb.cliente.post("/auth/login", json={"email": f"x{i}@demo.local", "senha": "x"})
        assert_erro(resposta, 401, "CREDENCIAIS_INVALIDAS")
    resposta = await amb.cliente.post("/auth/login", json={"email": "ana@demo.local", "senha": SENHA_DEMO})
    assert_erro(resposta, 429, "LIMITE_EXCEDIDO")
    assert int(resposta.headers["retry-after"]) >= 1


async def test_login_corpo_invalido(amb: Ambiente) -> None:
    sem_senha = await amb.cliente.post("/auth/login", json={"email": "ana@demo.local"})
    assert "senha" in assert_erro(sem_senha, 422, "PAYLOAD_INVALIDO")["error"]
    tipo_errado = await amb.cliente.post("/auth/login", json={"email": "ana@demo.local", "senha": 123})
    assert_erro(tipo_errado, 422, "PAYLOAD_INVALIDO")
    senha_enorme = await amb.cliente.post(
        "/auth/login", json={"email": "ana@demo.local", "senha": "x" * 5000}
    )
    assert_erro(senha_enorme, 422, "PAYLOAD_INVALIDO")
    lista = await amb.cliente.post("/auth/login", json=["ana@demo.local", SENHA_DEMO])
    assert_erro(lista, 422, "PAYLOAD_INVALIDO")
    malformado = await amb.cliente.post(
        "/auth/login", content=b'{"email": "ana@demo.local", ', headers={"content-type": "application/json"}
    )
    assert "JSON" in assert_erro(malformado, 400, "PAYLOAD_INVALIDO")["error"]


async def test_login_indisponivel_sem_hs256(amb_fabrica) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from atendimento.identity.tokens import ServicoTokens

    chave = ec.generate_private_key(ec.SECP256R1())
    pem = (
        chave.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    amb: Ambiente = await amb_fabrica(tokens=ServicoTokens(["ES256"], None, pem, 5, 3600))
    resposta = await amb.cliente.post("/auth/login", json={"email": "ana@demo.local", "senha": SENHA_DEMO})
    assert_erro(resposta, 503, "LOGIN_INDISPONIVEL")
    # Tokens from the external issuer still work on every other route.
    agora = int(time.time())
    token = jwt.encode(
        {"sub": amb.id("ana@demo.local"), "empresaId": amb.usuarios["ana@demo.local"]["empresa_id"],
         "role": "atendente", "nome": "Ana", "iat": agora, "exp": agora + 60},
        chave,
        algorithm="ES256",
    )  # fmt: skip
    me = await amb.cliente.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert assert_ok(me, 200, UsuarioSaida)["id"] == amb.id("ana@demo.local")


# --- /auth/me and token refusals --------------------------------------------------------------


async def test_me(amb_ambos: Ambiente) -> None:
    amb = amb_ambos  # SQLite and PostgreSQL (RLS)
    data = assert_ok(await amb.cliente.get("/auth/me", headers=amb.auth("ana@demo.local")), 200, UsuarioSaida)
    assert data["id"] == amb.id("ana@demo.local")
    assert data["role"] == "atendente"


async def test_me_de_usuario_que_so_existe_no_crm(amb: Ambiente) -> None:
    # ATENDIMENTO_USUARIOS_EXTERNOS=recusar (the default): a user the database does not hold is
    # refused (provisionar creates it: tests/api/test_autoridade.py).
    token = amb.tokens.emitir("crm-42", amb.usuarios["ana@demo.local"]["empresa_id"], "vendedor", "Vera")
    resposta = await amb.cliente.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert_erro(resposta, 401, "USUARIO_INVALIDO")


async def test_sem_token(amb: Ambiente) -> None:
    resposta = await amb.cliente.get("/auth/me")
    assert_erro(resposta, 401, "TOKEN_AUSENTE")
    assert resposta.headers["www-authenticate"] == "Bearer"


async def test_token_na_query_string_e_ignorado(amb: Ambiente) -> None:
    token = amb.token("ana@demo.local")
    assert_erro(await amb.cliente.get(f"/auth/me?token={token}"), 401, "TOKEN_AUSENTE")
    assert_erro(await amb.cliente.get(f"/auth/me?access_token={token}"), 401, "TOKEN_AUSENTE")


async def test_esquema_que_nao_e_bearer(amb: Ambiente) -> None:
    token = amb.token("ana@demo.local")
    assert_erro(
        await amb.cliente.get("/auth/me", headers={"Authorization": f"Basic {token}"}), 401, "TOKEN_AUSENTE"
    )
    assert_erro(await amb.cliente.get("/auth/me", headers={"Authorization": "Bearer "}), 401, "TOKEN_AUSENTE")
    ok = await amb.cliente.get("/auth/me", headers={"Authorization": f"bearer {token}"})
    assert ok.status_code == 200


async def test_token_invalido(amb: Ambiente) -> None:
    for token in ("lixo", amb.token("ana@demo.local")[:-3] + "abc"):
        resposta = await amb.cliente.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert_erro(resposta, 401, "TOKEN_INVALIDO")
    outro = jwt.encode(
        {"sub": "x", "empresaId": "e", "role": "admin", "nome": "n", "exp": 9999999999}, "z" * 40
    )
    assert_erro(
        await amb.cliente.get("/auth/me", headers={"Authorization": f"Bearer {outro}"}), 401, "TOKEN_INVALIDO"
    )


async def test_token_expirado(amb: Ambiente) -> None:
    token = amb.token("ana@demo.local", ttl=-60)
    resposta = await amb.cliente.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert_erro(resposta, 401, "TOKEN_EXPIRADO")
