"""The messages instances exchange over Redis pub/sub, and how a received one is checked.

One JSON object per Redis message, on one channel per namespace (``channel(namespace)``). The format is
documented in docs/cluster.md; this module is its single definition. Every field a receiver acts on is
validated before anything happens: a malformed or foreign message raises ``InvalidEnvelope`` with a
short reason, and the caller counts and drops it. Nothing here touches sockets.

Why JSON and not the engine's encoded packet: each instance encodes the Socket.IO packet once itself,
so the wire between instances stays independent of the engine's framing (and of its version).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from atendimento.engine.engineio.protocol.errors import ProtocolError
from atendimento.engine.engineio.protocol.reasons import Reason
from atendimento.engine.socketio.protocol.packets import RESERVED_EVENTS, deconstruct, reconstruct

VERSAO: Literal[1] = 1
"""Bumped on any change an older instance would misread; additive optional fields keep it."""

PREFIXO = "atendimento"

# A message larger than this is not one of ours (server-side events are a few kB at most); refusing
# it before parsing keeps a misbehaving publisher from making every instance parse megabytes.
TAMANHO_MAXIMO = 4 * 1024 * 1024
MAX_SALAS = 10_000
MAX_NOME = 512

Nome = Annotated[str, Field(min_length=1, max_length=MAX_NOME)]
Salas = Annotated[list[Nome], Field(max_length=MAX_SALAS)]


def channel(namespace: str) -> str:
    """The instance-wide channel of a namespace, which every instance reads:
    ``atendimento:/atendimento:broadcast`` (emits of no single tenant)."""
    return f"{PREFIXO}:{namespace}:broadcast"


def etiqueta(empresa: str) -> str:
    """A tenant id as a Redis Cluster hash tag (``{…}``): the braces a tag ends at are escaped, so every
    key and channel of a tenant hashes to the same slot, whatever its id holds."""
    return "{" + empresa.replace("%", "%25").replace("{", "%7B").replace("}", "%7D") + "}"


def canal_empresa(namespace: str, empresa: str) -> str:
    """A tenant's sharded channel in a namespace: ``atendimento:{empresa}:/atendimento:broadcast``,
    in the same hash slot as the tenant's keys (presence, viewers)."""
    return f"{PREFIXO}:{etiqueta(empresa)}:{namespace}:broadcast"


class InvalidEnvelope(ValueError):
    """A received message that must be dropped; ``motivo`` is the metric label."""

    def __init__(self, motivo: str) -> None:
        super().__init__(motivo)
        self.motivo = motivo


class _Base(BaseModel):
    # strict: a "1" is not a 1; ignore extra keys so additive fields don't break older instances.
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")

    v: Literal[1] = VERSAO
    instance: Nome
    nsp: Annotated[str, Field(min_length=1, max_length=MAX_NOME, pattern=r"^/")]


class Alvo(_Base):
    """Which sockets a request reaches: in any of ``rooms`` (all when empty), minus the exceptions."""

    rooms: Salas = []
    except_rooms: Salas = []
    except_sids: Salas = []


class Broadcast(Alvo):
    """An emit: each instance delivers ``event(*args)`` to its own matching sockets, each once.

    ``bytes`` arguments travel as Socket.IO does it: ``{"_placeholder": true, "num": n}`` in ``args``
    and the n-th base64 string of ``attachments``.
    """

    kind: Literal["broadcast"] = "broadcast"
    event: Nome
    args: list[Any] = []
    attachments: list[str] = []


class Desconectar(Alvo):
    """Disconnect the matching sockets everywhere (e.g. every socket of ``user:{id}``)."""

    kind: Literal["disconnect"] = "disconnect"
    # Not strict: the wire holds the string; an unknown reason fails validation and the envelope is dropped.
    reason: Annotated[Reason, Field(strict=False)] = Reason.SERVER_DISCONNECT


class Entrar(Alvo):
    """The matching sockets everywhere join ``target_rooms`` (socketsJoin)."""

    kind: Literal["join"] = "join"
    target_rooms: Annotated[list[Nome], Field(min_length=1, max_length=MAX_SALAS)]


class Sair(Alvo):
    """The matching sockets everywhere leave ``target_rooms`` (socketsLeave)."""

    kind: Literal["leave"] = "leave"
    target_rooms: Annotated[list[Nome], Field(min_length=1, max_length=MAX_SALAS)]


class Retomar(_Base):
    """A reconnect landed on ``instance`` with the ``pid`` of a session kept by ``dono``: the home hands
    it over (cluster/recuperacao.py). On the namespace's channel, so that every instance sees it in the
    same order relative to the broadcasts (the hand-over point)."""

    kind: Literal["retomar"] = "retomar"
    pedido: Annotated[str, Field(min_length=1, max_length=64)]
    dono: Nome
    pid: Annotated[str, Field(min_length=1, max_length=64)]
    offset: Annotated[str, Field(max_length=64)] | None = None


Mensagem = Annotated[Broadcast | Desconectar | Entrar | Sair | Retomar, Field(discriminator="kind")]
_LEITOR: TypeAdapter[Broadcast | Desconectar | Entrar | Sair | Retomar] = TypeAdapter(Mensagem)


class UsuarioAlterado(BaseModel):
    """A user's record changed on ``instance`` (``usuario_alterado``): every other instance drops its
    cached record and re-checks its sockets of that user (cluster/usuarios.py). On a channel of its
    own (``canal_usuarios``), not a namespace's: it concerns the product's users, not a namespace."""

    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")

    v: Literal[1] = VERSAO
    kind: Literal["usuario_alterado"] = "usuario_alterado"
    instance: Nome
    empresa_id: Annotated[str, Field(min_length=1, max_length=MAX_NOME)]
    usuario_id: Annotated[str, Field(min_length=1, max_length=MAX_NOME)]


def canal_usuarios() -> str:
    return f"{PREFIXO}:usuarios"


def decodificar_usuario(dados: bytes | str) -> UsuarioAlterado:
    """A received ``UsuarioAlterado``, checked; InvalidEnvelope(motivo) for anything else."""
    if len(dados) > 4096:
        raise InvalidEnvelope("tamanho")
    try:
        return UsuarioAlterado.model_validate_json(dados)
    except ValidationError:
        raise InvalidEnvelope("formato") from None


def _json(objeto: dict[str, Any]) -> bytes:
    return json.dumps(objeto, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def codificar(envelope: Desconectar | Entrar | Sair | Retomar | UsuarioAlterado) -> bytes:
    """The bytes to publish for a request (not on the hot path; broadcasts use codificar_broadcast)."""
    return _json(envelope.model_dump(mode="python"))


def codificar_broadcast(
    instance: str,
    nsp: str,
    event: str,
    args: Iterable[Any],
    rooms: Iterable[str] = (),
    except_rooms: Iterable[str] = (),
    except_sids: Iterable[str] = (),
) -> bytes:
    """A ``Broadcast`` message as bytes, built without the model: it runs on every emit, and what we
    produce needs no validation (the tests hold it to the model). Raises ValueError when an argument
    is neither JSON nor bytes."""
    corpo: dict[str, Any] = {
        "v": VERSAO,
        "instance": instance,
        "nsp": nsp,
        "kind": "broadcast",
        "event": event,
        "args": list(args),
        "rooms": sorted(rooms),
        "except_rooms": sorted(except_rooms),
        "except_sids": sorted(except_sids),
    }
    try:
        return _json(corpo)
    except TypeError:
        anexos: list[bytes] = []
        corpo["args"] = deconstruct(corpo["args"], anexos)
        if not anexos:
            raise ValueError("an argument is neither JSON nor bytes") from None
        corpo["attachments"] = [base64.b64encode(a).decode("ascii") for a in anexos]
        try:
            return _json(corpo)
        except TypeError as exc:
            raise ValueError(f"an argument is neither JSON nor bytes: {exc}") from None
    except ValueError as exc:  # NaN, infinity: JSON has no such numbers
        raise ValueError(str(exc)) from None


def decodificar(dados: bytes | str, namespace: str) -> Broadcast | Desconectar | Entrar | Sair | Retomar:
    """A received message, checked; raises InvalidEnvelope(motivo) for anything not ours.

    Reasons: ``tamanho`` (too big), ``json`` (not a JSON object), ``versao`` (a ``v`` this instance
    does not know, e.g. a newer instance during a rolling deploy), ``formato`` (fields missing or of the
    wrong type, unknown ``kind``), ``namespace`` (valid, but for another namespace than its channel's).
    """
    if len(dados) > TAMANHO_MAXIMO:
        raise InvalidEnvelope("tamanho")
    try:
        bruto = json.loads(dados)
    except (ValueError, UnicodeDecodeError):
        raise InvalidEnvelope("json") from None
    if not isinstance(bruto, dict):
        raise InvalidEnvelope("json")
    # The version is read first so that a newer instance's message is counted as such, not as garbage.
    versao = bruto.get("v")
    if versao != VERSAO or isinstance(versao, bool):
        raise InvalidEnvelope(
            "versao" if isinstance(versao, int) and not isinstance(versao, bool) else "formato"
        )
    try:
        envelope = _LEITOR.validate_python(bruto)
    except ValidationError:
        raise InvalidEnvelope("formato") from None
    if envelope.nsp != namespace:
        raise InvalidEnvelope("namespace")
    if isinstance(envelope, Broadcast) and envelope.event in RESERVED_EVENTS:
        raise InvalidEnvelope("formato")  # no client may ever receive a reserved event
    return envelope


def argumentos(envelope: Broadcast) -> tuple[Any, ...]:
    """The event's arguments, with ``bytes`` put back; raises InvalidEnvelope("formato") on bad ones."""
    if not envelope.attachments:
        return tuple(envelope.args)
    try:
        anexos = [base64.b64decode(a, validate=True) for a in envelope.attachments]
        return tuple(reconstruct(envelope.args, anexos))
    except (ValueError, ProtocolError):
        raise InvalidEnvelope("formato") from None


__all__ = [
    "PREFIXO",
    "VERSAO",
    "Alvo",
    "Broadcast",
    "Desconectar",
    "Entrar",
    "InvalidEnvelope",
    "Retomar",
    "Sair",
    "UsuarioAlterado",
    "argumentos",
    "canal_empresa",
    "canal_usuarios",
    "channel",
    "codificar",
    "codificar_broadcast",
    "decodificar",
    "decodificar_usuario",
    "etiqueta",
]
