"""JWT issue and verification: the one place that turns a bearer token into an Identidade.

The REST API and the Socket.IO gateway both call ``ServicoTokens.verificar``, so a token is accepted or
refused the same way everywhere, with the contract's codes (TOKEN_AUSENTE, TOKEN_INVALIDO,
TOKEN_EXPIRADO).

Security notes (RFC 8725):
- The accepted algorithms come from configuration only. The token's ``alg`` header is merely looked up
  in that allow-list to pick the key configured *for that algorithm*; an algorithm that is not
  configured (``none``, HS512, RS256 when only HS256 is on, ...) is refused before any crypto runs.
- Each algorithm has its own key of its own type (HS256: the secret; RS256: an RSA public key; ES256:
  a P-256 public key), so an HS256 token "signed" with the public key PEM never verifies.
"""

from __future__ import annotations

import hashlib
import math
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from atendimento.config import JWT_ALGORITHMS, MIN_HS256_SECRET_BYTES
from atendimento.domain.codigos import Codigo
from atendimento.domain.entidades import ROLES_INTERNOS

if TYPE_CHECKING:
    from atendimento.config import Settings

CodigoToken = Literal[Codigo.TOKEN_AUSENTE, Codigo.TOKEN_INVALIDO, Codigo.TOKEN_EXPIRADO]

# A real token of ours is a few hundred bytes; refusing huge strings up front keeps a hostile client
# from making us base64-decode and JSON-parse megabytes on every handshake.
MAX_TOKEN_CHARS: Final = 8192
# Claims that must be non-empty strings, mapped to the Identidade field they fill.
_INTERNADOS: Final = frozenset({"empresa_id", "role"})
_CLAIMS_TEXTO: Final = (
    ("sub", "usuario_id"),
    ("empresaId", "empresa_id"),
    ("role", "role"),
    ("nome", "nome"),
)
# Verified tokens kept per ServicoTokens (see ``verificar``). A client sends the same bearer token on
# every request, and PyJWT's decode (key preparation, HMAC, JSON) was 5-7 % of a message POST.
TAMANHO_CACHE_PADRAO: Final = 4096
# How long a login may be stretched by renewals (``renovar``) before the user must type the password.
SESSAO_MAXIMA_PADRAO: Final = 24 * 3600

_MENSAGENS: Final[dict[str, str]] = {
    Codigo.TOKEN_AUSENTE: "Token ausente",
    Codigo.TOKEN_INVALIDO: "Token inválido",
    Codigo.TOKEN_EXPIRADO: "Token expirado",
}


class TokenErro(Exception):
    """A token was refused; ``code`` is what the client sees, ``motivo`` is for logs only."""

    def __init__(self, code: CodigoToken, motivo: str | None = None) -> None:
        super().__init__(_MENSAGENS[code])
        self.code: CodigoToken = code
        self.motivo = motivo


class SessaoExpirada(Exception):
    """``renovar`` refused: the session has reached its maximum age; the user must log in again."""


@dataclass(frozen=True, slots=True)
class Identidade:
    usuario_id: str
    empresa_id: str
    role: str
    nome: str
    exp: int
    iat: int | None = None
    # When the user logged in (seconds); renewals carry it forward so a session has a maximum age.
    auth_time: int | None = None
    # The ``email`` claim when a token from the CRM has one (used to provision the user; optional).
    email: str | None = None

    @property
    def interno(self) -> bool:
        return self.role in ROLES_INTERNOS


def extrair_bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value, or None when there is none."""
    if not authorization:
        return None
    esquema, _, valor = authorization.strip().partition(" ")
    if esquema.lower() != "bearer":
        return None
    return valor.strip() or None


@dataclass(frozen=True, slots=True)
class _Verificado:
    """What a successful check leaves in the cache: enough to redo the time checks on each use."""

    identidade: Identidade
    tem_nbf: bool
    nbf: int | None


class ServicoTokens:
    def __init__(
        self,
        algorithms: list[str],
        secret: str | None,
        public_key: str | None,
        leeway_seconds: int,
        ttl_seconds: int,
        cache_size: int = TAMANHO_CACHE_PADRAO,
        max_session_seconds: int = SESSAO_MAXIMA_PADRAO,
    ) -> None:
        if not algorithms:
            raise ValueError("at least one JWT algorithm must be configured")
        desconhecidos = [a for a in algorithms if a not in JWT_ALGORITHMS]
        if desconhecidos:
            raise ValueError(f"unsupported JWT algorithms {desconhecidos}")
        if leeway_seconds < 0 or ttl_seconds <= 0:
            raise ValueError("leeway_seconds must be >= 0 and ttl_seconds > 0")
        if cache_size < 0:
            raise ValueError("cache_size must be >= 0 (0 turns the cache off)")
        if max_session_seconds <= 0:
            raise ValueError("max_session_seconds must be > 0")
        self._sessao_maxima = max_session_seconds
        self._algorithms: tuple[str, ...] = tuple(dict.fromkeys(algorithms))
        self._secret = secret
        self._leeway = leeway_seconds
        self._ttl = ttl_seconds
        self._chaves: dict[str, Any] = {}
        # LRU of verified tokens, keyed on the exact token string: a token differing in any byte
        # (signature included) is a miss and goes through the full check. The keys are fixed for the
        # life of this instance, so the signature and claims checks of a cached token cannot change
        # their answer; only time can, and the time checks run again on every use. Only tokens that
        # passed verification get in, so only a holder of a signing key can fill it. The lock makes
        # the LRU bookkeeping safe should a thread ever call verificar.
        self._cache_max = cache_size
        # Keyed by a digest of the token, not the token: a socket's token is verified once and would
        # otherwise stay in memory (hundreds of bytes) for as long as the entry does.
        self._cache: OrderedDict[bytes, _Verificado] = OrderedDict()
        self._cache_lock = threading.Lock()
        if "HS256" in self._algorithms:
            if secret is None or len(secret.encode()) < MIN_HS256_SECRET_BYTES:
                raise ValueError(f"HS256 needs a secret of at least {MIN_HS256_SECRET_BYTES} bytes")
            self._chaves["HS256"] = secret
        assimetricos = [a for a in self._algorithms if a != "HS256"]
        if assimetricos:
            self._carregar_chave_publica(assimetricos, public_key)

    def _carregar_chave_publica(self, algoritmos: list[str], pem: str | None) -> None:
        if not pem:
            raise ValueError(f"JWT algorithms {algoritmos} need a public key")
        # Parsed once here so a bad PEM stops the start-up instead of failing every login later.
        chave = load_pem_public_key(pem.encode())
        for algoritmo in algoritmos:
            if algoritmo == "RS256":
                if not isinstance(chave, rsa.RSAPublicKey):
                    raise ValueError("RS256 needs an RSA public key")
                if chave.key_size < 2048:
                    raise ValueError("RS256 needs an RSA key of at least 2048 bits")
            elif algoritmo == "ES256":
                if not isinstance(chave, ec.EllipticCurvePublicKey) or not isinstance(
                    chave.curve, ec.SECP256R1
                ):
                    raise ValueError("ES256 needs an EC P-256 public key")
            self._chaves[algoritmo] = chave

    @classmethod
    def from_settings(cls, settings: Settings) -> ServicoTokens:
        return cls(
            algorithms=list(settings.jwt_algorithms),
            secret=settings.resolve_jwt_secret(),
            public_key=settings.public_key_pem(),
            leeway_seconds=settings.jwt_leeway_seconds,
            ttl_seconds=settings.token_ttl_seconds,
            max_session_seconds=settings.session_max_seconds,
        )

    @property
    def algorithms(self) -> tuple[str, ...]:
        return self._algorithms

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    @property
    def pode_emitir(self) -> bool:
        """Only HS256 tokens are issued here; with RS256/ES256 the tokens come from elsewhere."""
        return "HS256" in self._chaves

    def emitir(
        self,
        usuario_id: str,
        empresa_id: str,
        role: str,
        nome: str,
        ttl_seconds: int | None = None,
        *,
        auth_time: int | None = None,
    ) -> str:
        if not self.pode_emitir:
            raise RuntimeError("tokens can only be issued when HS256 is configured")
        campos = (("usuario_id", usuario_id), ("empresa_id", empresa_id), ("role", role), ("nome", nome))
        for campo, valor in campos:
            if not isinstance(valor, str) or not valor.strip():
                raise ValueError(f"{campo} must be a non-empty string")
        # A negative ttl is allowed on purpose: tests and the CLI use it to mint an expired token.
        ttl = self._ttl if ttl_seconds is None else ttl_seconds
        agora = int(time.time())
        claims = {
            "sub": usuario_id,
            "empresaId": empresa_id,
            "role": role,
            "nome": nome,
            "iat": agora,
            "exp": agora + ttl,
            "auth_time": agora if auth_time is None else auth_time,
        }
        return jwt.encode(claims, self._chaves["HS256"], algorithm="HS256")

    def renovar(self, identidade: Identidade, role: str, nome: str) -> tuple[str, int]:
        """A new token for a verified caller, and its lifetime in seconds, within the session bound.

        The login time (``auth_time``, or ``iat`` for a token without it) travels into the new token,
        and the new ``exp`` never passes login + ``max_session_seconds``; past that bound, or with no
        login time to go by, ``SessaoExpirada``. ``role`` and ``nome`` are the user's current ones."""
        inicio = identidade.auth_time if identidade.auth_time is not None else identidade.iat
        agora = int(time.time())
        if inicio is None:
            raise SessaoExpirada("token without auth_time or iat")
        fim = inicio + self._sessao_maxima
        ttl = min(self._ttl, fim - agora)
        if ttl <= 0:
            raise SessaoExpirada("maximum session age reached")
        token = self.emitir(identidade.usuario_id, identidade.empresa_id, role, nome, ttl, auth_time=inicio)
        return token, ttl

    def verificar(self, token: str | None) -> Identidade:
        if token is None or (isinstance(token, str) and not token.strip()):
            raise TokenErro(Codigo.TOKEN_AUSENTE)
        # Callers pass whatever the client sent (a handshake's auth.token can be any JSON value).
        if not isinstance(token, str):
            raise TokenErro(Codigo.TOKEN_INVALIDO, "token is not a string")
        if len(token) > MAX_TOKEN_CHARS:
            raise TokenErro(Codigo.TOKEN_INVALIDO, "token too long")
        chave = _chave_cache(token)
        with self._cache_lock:
            verificado = self._cache.get(chave)
            if verificado is not None:
                self._cache.move_to_end(chave)
        if verificado is not None:
            try:
                # The same time checks as a first verification, against the clock now: an expired
                # token is refused with TOKEN_EXPIRADO exactly as without the cache.
                self._verificar_tempo(verificado)
            except TokenErro:
                with self._cache_lock:
                    self._cache.pop(chave, None)
                raise
            return verificado.identidade
        verificado = self._verificar_completo(token)
        if self._cache_max:
            with self._cache_lock:
                self._cache[chave] = verificado
                if len(self._cache) > self._cache_max:
                    self._cache.popitem(last=False)
        return verificado.identidade

    def _verificar_completo(self, token: str) -> _Verificado:
        algoritmo = self._algoritmo_do_cabecalho(token)
        try:
            claims = jwt.decode(
                token,
                key=self._chaves[algoritmo],
                algorithms=[algoritmo],
                # Time claims are checked below, after their types: PyJWT coerces them with int(), so
                # it would call ``exp: true`` (= 1) "expired" and accept ``exp: "123"``.
                options={
                    "require": ["exp", "sub"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise TokenErro(Codigo.TOKEN_INVALIDO, f"{type(exc).__name__}: {exc}") from None
        tem_nbf = "nbf" in claims
        verificado = _Verificado(
            self._identidade(claims), tem_nbf, _numero_data(claims["nbf"]) if tem_nbf else None
        )
        self._verificar_tempo(verificado)
        return verificado

    def _verificar_tempo(self, verificado: _Verificado) -> None:
        agora = time.time()
        identidade = verificado.identidade
        if identidade.iat is not None and identidade.iat > agora + self._leeway:
            raise TokenErro(Codigo.TOKEN_INVALIDO, "token issued in the future (iat)")
        if verificado.tem_nbf:
            nbf = verificado.nbf
            if nbf is None or nbf > agora + self._leeway:
                raise TokenErro(Codigo.TOKEN_INVALIDO, "token not yet valid (nbf)")
        # Same rule as RFC 7519 and PyJWT: a token is expired from the second named by exp.
        if identidade.exp <= agora - self._leeway:
            raise TokenErro(Codigo.TOKEN_EXPIRADO, "token expired")

    def _algoritmo_do_cabecalho(self, token: str) -> str:
        try:
            cabecalho = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenErro(Codigo.TOKEN_INVALIDO, f"malformed token: {exc}") from None
        algoritmo = cabecalho.get("alg")
        # Membership in the configured allow-list is the whole decision; the header never widens it.
        if not isinstance(algoritmo, str) or algoritmo not in self._chaves:
            raise TokenErro(Codigo.TOKEN_INVALIDO, f"algorithm {algoritmo!r} not accepted")
        return algoritmo

    @staticmethod
    def _identidade(claims: dict[str, Any]) -> Identidade:
        valores: dict[str, str] = {}
        for claim, campo in _CLAIMS_TEXTO:
            valor = claims.get(claim)
            if not isinstance(valor, str) or not valor.strip():
                raise TokenErro(Codigo.TOKEN_INVALIDO, f"claim {claim} missing or not a string")
            # The tenant and the role are the same few strings across thousands of identities kept
            # by connected sockets: one copy each.
            valores[campo] = sys.intern(valor) if campo in _INTERNADOS else valor
        exp = _numero_data(claims.get("exp"))
        if exp is None:
            raise TokenErro(Codigo.TOKEN_INVALIDO, "claim exp is not a number")
        datas: dict[str, int | None] = {"iat": None, "auth_time": None}
        for claim in datas:
            if claims.get(claim) is not None:
                datas[claim] = _numero_data(claims[claim])
                if datas[claim] is None:
                    raise TokenErro(Codigo.TOKEN_INVALIDO, f"claim {claim} is not a number")
        email = claims.get("email")
        return Identidade(
            exp=exp,
            iat=datas["iat"],
            auth_time=datas["auth_time"],
            email=email if isinstance(email, str) and email.strip() else None,
            **valores,
        )


def _chave_cache(token: str) -> bytes:
    """32 bytes that name the token (BLAKE2b-256: finding two tokens that share them is infeasible)."""
    return hashlib.blake2b(token.encode(), digest_size=32).digest()


def _numero_data(valor: object) -> int | None:
    """A JWT NumericDate as whole seconds, or None when the value is not a finite number."""
    if isinstance(valor, bool) or not isinstance(valor, int | float):
        return None
    if isinstance(valor, float) and not math.isfinite(valor):
        return None
    return int(valor)
