"""Connection state recovery across instances: the home instance hands a saved session over.

Why a hand-over and not a shared log (docs/cluster.md, "Connection state recovery across
instances"): instances see the packets of different origins in different orders, so only the
instance the socket was on (its *home*) knows what the client saw and in which order. The home keeps
the saved session and keeps recording every broadcast of the cluster into its own log (engine's
``MemoryRecoveryStore``), exactly as for a client that comes back to it. A reconnect that lands on
another instance B:

1. B takes the pid's home from Redis with ``GETDEL`` (``pid → instance``, set by the home when it
   saved the session, TTL = the window): a pid is handed over at most once, cluster-wide; a forged,
   replayed or expired pid finds nothing and the socket is fresh at once.
2. B notes its own log's head and publishes a ``Retomar`` request on the namespace's channel. That
   channel carries the broadcasts too, and Redis delivers one connection's subscription in publish
   order: the request is the *hand-over point*. Every broadcast published before it has reached the
   home before the request does (so it is in the home's replay, or the client had it); every one
   published after it reaches B after B sees its own request come back (its "echo"). The home's
   own emits are in its log before Redis orders them: those whose echo has not come back to the
   home when it reads the request were published after it, and are left out of its answer.
3. The home takes the session (single use, the same checks as a local restore: window, bounds,
   offset, a Redis outage during the gap) and answers on B's reply channel: sid, rooms, data, how old
   the session is, and the missed packets already encoded, in its own delivery order.
4. B's replay is the home's packets, then the packets of B's own log after the noted head that are
   published after the request: the ones B received after its echo, and B's own emits made after it
   noted the head (their publish follows the request's in B's publish queue). Computing that and
   joining the socket's rooms happen in one step with no await between them, so from there on the
   socket gets its broadcasts directly: nothing lost, nothing twice.

No answer within the timeout (home gone, Redis away), a session the home can't restore, bounds
exceeded: ``None``, a fresh connection. ``socket.data`` crosses as JSON (dataclasses as dicts); a
session whose data is not JSON is not recoverable elsewhere.

A normal emit costs nothing more: no Redis command, one truthiness check (``vigias``) while no
hand-over is pending on that instance.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import secrets
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from atendimento.cluster.envelopes import PREFIXO, Retomar, codificar
from atendimento.cluster.topologia import ERROS_REDIS
from atendimento.engine.engineio.protocol.outgoing import Outgoing
from atendimento.engine.socketio.recovery import (
    MAX_OFFSET_LENGTH,
    MAX_PID_LENGTH,
    MemoryRecoveryStore,
    PacketLog,
    Replay,
    SavedSession,
)

if TYPE_CHECKING:
    from atendimento.cluster.adapter import RedisAdapter
    from atendimento.cluster.redis_link import RedisLink

log = logging.getLogger(__name__)

PRAZO_S = 2.0
_FALHAS: tuple[type[BaseException], ...] = (*ERROS_REDIS, TimeoutError)
_MAX_RESPOSTA = 16 * 1024 * 1024


def reply_channel(instancia: str) -> str:
    """Where an instance gets the answers to its hand-over requests."""
    return f"{PREFIXO}:instancia:{instancia}:recuperacao"


def _chave(pid: str) -> str:
    return f"{PREFIXO}:recuperacao:pid:{pid}"


def _ler_dono(valor: bytes | str) -> tuple[str, str]:
    """The pid key's value: ``{"dono", "canal"}`` (the home, and the channel its session's broadcasts
    and the hand-over travel on); a bare instance id from an older instance means the namespace's
    instance-wide channel."""
    texto = valor.decode() if isinstance(valor, bytes) else str(valor)
    if texto.startswith("{"):
        try:
            dados = json.loads(texto)
            return str(dados["dono"]), str(dados.get("canal") or "")
        except (ValueError, KeyError, TypeError):
            return "", ""
    return texto, ""


def _empresa_do_canal(adaptador: RedisAdapter, canal: str) -> str | None:
    """Which held tenant ``canal`` is, checked against the names this adapter makes (a value read from
    Redis never makes us subscribe to an arbitrary channel)."""
    prefixo, sufixo = f"{PREFIXO}:{{", f"}}:{adaptador.namespace.name}:broadcast"
    if not (canal.startswith(prefixo) and canal.endswith(sufixo)):
        return None
    candidata = canal[len(prefixo) : -len(sufixo)]
    empresa = candidata.replace("%7D", "}").replace("%7B", "{").replace("%25", "%")
    return empresa if adaptador.empresas.canal(empresa) == canal else None


class Entrega(BaseModel):
    """The home's answer; ``ok`` false: nothing to hand over (unknown, spent, not restorable)."""

    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")

    v: int = 1
    pedido: Annotated[str, Field(min_length=1, max_length=64)]
    ok: bool
    sid: str = ""
    nsp: str = ""
    rooms: list[str] = []
    data: dict[str, Any] = {}
    idade: float = 0.0
    pacotes: list[list[str]] = []  # per Outgoing, its parts: "t" + text or "b" + base64 of bytes


def _partes(out: Outgoing) -> list[str]:
    return ["t" + p if isinstance(p, str) else "b" + base64.b64encode(p).decode("ascii") for p in out.packets]


def _de_partes(partes: list[str]) -> Outgoing:
    return Outgoing(tuple(p[1:] if p[:1] == "t" else base64.b64decode(p[1:], validate=True) for p in partes))


def _json_padrao(valor: object) -> object:
    # socket.data holds plain values, and the gateway's identity (a dataclass): both cross as JSON.
    if dataclasses.is_dataclass(valor) and not isinstance(valor, type):
        return dataclasses.asdict(valor)
    raise TypeError(f"{type(valor).__name__} is not JSON")


class _Pendente:
    __slots__ = ("eco", "futuro", "inicio", "locais", "resposta")

    def __init__(self, inicio: int) -> None:
        self.inicio = inicio  # B's log head when it sent the request
        self.eco: int | None = None  # B's log head when the request came back to it
        self.locais: set[int] = set()  # B's own emits since ``inicio`` (their offset numbers)
        self.resposta: Entrega | None = None
        self.futuro: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def talvez_pronto(self) -> None:
        if self.eco is not None and self.resposta is not None and not self.futuro.done():
            self.futuro.set_result(None)


class RecuperacaoRedis:
    """The engine's ``RecoveryStore`` for a cluster: this instance's sessions and logs (``local``),
    plus the hand-over of sessions kept by other instances."""

    def __init__(
        self, local: MemoryRecoveryStore, link: RedisLink, instancia: str, *, prazo_s: float = PRAZO_S
    ) -> None:
        self.local = local
        self.config = local.config
        self.clock = local.clock
        self.link = link
        self.instancia = instancia
        self.prazo_s = prazo_s
        self._pendentes: dict[str, _Pendente] = {}
        self._adaptadores: dict[str, RedisAdapter] = {}
        self._tarefas: set[asyncio.Task[None]] = set()
        # Counters for tests and operators.
        self.entregues = 0  # sessions this instance handed over
        self.recebidas = 0  # sessions it took over
        self.falhas = 0  # hand-overs asked for that ended in a fresh connection
        link.assinar(reply_channel(instancia), self._resposta)

    # --- the engine's RecoveryStore ----------------------------------------------------------------

    def log(self, nsp: str) -> PacketLog:
        return self.local.log(nsp)

    def save(self, session: SavedSession) -> None:
        self.local.save(session)
        if session.pid not in self.local:
            return
        adaptador = self._adaptadores.get(session.nsp)
        canal = adaptador.channel if adaptador is not None else ""
        empresa = adaptador.empresa_das_salas(session.rooms) if adaptador is not None else None
        if adaptador is not None and empresa is not None:
            # The home keeps reading the tenant's channel while the session may be asked for: its log
            # needs the tenant's broadcasts, and the hand-over request travels there.
            adaptador.empresas.reter(empresa, self.config.window_seconds + self.prazo_s)
            canal = adaptador.empresas.canal(empresa)
        if self.link.disponivel:
            # Not awaited (save is synchronous): a reconnect faster than this SET is a fresh one.
            self._em_fundo(self._registrar(session.pid, canal))

    def __contains__(self, pid: object) -> bool:
        return pid in self.local

    async def take(self, nsp: str, pid: object, offset: object) -> Replay | None:
        if not isinstance(pid, str) or len(pid) > MAX_PID_LENGTH:
            return None
        if pid in self.local:
            return self.local.take_now(nsp, pid, offset)
        if offset is not None and (not isinstance(offset, str) or len(offset) > MAX_OFFSET_LENGTH):
            offset = None
        try:
            dono = await asyncio.wait_for(self.link.cliente.getdel(_chave(pid)), self.prazo_s)
        except _FALHAS as exc:
            log.info("recovery: the home of a pid could not be read: %r", exc)
            return None
        if dono is None:
            return None  # forged, spent, expired, or its home never said (Redis was away)
        dono, canal = _ler_dono(dono)
        if dono == self.instancia:
            return None  # ours, but no longer here (spent, expired, or this process restarted)
        adaptador = self._adaptadores.get(nsp)
        if adaptador is None:
            return None
        canal = canal or adaptador.channel
        if canal != adaptador.channel:
            # The tenant's channel: read it (for the echo, and what follows) before asking on it.
            empresa = _empresa_do_canal(adaptador, canal)
            if empresa is None:
                return None
            adaptador.empresas.reter(empresa, self.prazo_s * 2)
            if not await self.link.esperar_assinado(canal, self.prazo_s):
                self.falhas += 1
                return None
        replay = await self._pedir(adaptador, canal, dono, nsp, pid, offset)
        if replay is None:
            self.falhas += 1
        else:
            self.recebidas += 1
        return replay

    # --- wiring ------------------------------------------------------------------------------------

    def registrar_adaptador(self, adaptador: RedisAdapter) -> None:
        self._adaptadores[adaptador.namespace.name] = adaptador

    async def fechar(self) -> None:
        for tarefa in list(self._tarefas):
            tarefa.cancel()
        for pendente in self._pendentes.values():
            if not pendente.futuro.done():
                pendente.futuro.set_result(None)  # no answer: the waiting reconnect is a fresh one

    def _em_fundo(self, coro: Any) -> None:
        tarefa = asyncio.get_running_loop().create_task(coro)
        self._tarefas.add(tarefa)
        tarefa.add_done_callback(self._tarefas.discard)

    async def _registrar(self, pid: str, canal: str) -> None:
        ttl = max(1, int(self.config.window_seconds + 0.999))
        valor = json.dumps({"dono": self.instancia, "canal": canal}, separators=(",", ":"))
        try:
            await self.link.cliente.set(_chave(pid), valor, ex=ttl)
        except ERROS_REDIS as exc:
            log.info("recovery: pid not registered (recoverable here only): %r", exc)

    # --- B: the instance the client landed on --------------------------------------------------------

    async def _pedir(
        self, adaptador: RedisAdapter, canal: str, dono: str, nsp: str, pid: str, offset: str | None
    ) -> Replay | None:
        registro = adaptador.log
        if registro is None:
            return None
        pedido = secrets.token_urlsafe(12)
        pendente = _Pendente(registro.head)
        envelope = Retomar(instance=self.instancia, nsp=nsp, pedido=pedido, dono=dono, pid=pid, offset=offset)
        self._pendentes[pedido] = pendente
        adaptador.vigias.append(pendente.locais)
        try:
            if not self.link.publicar(canal, codificar(envelope)):
                return None
            try:
                await asyncio.wait_for(asyncio.shield(pendente.futuro), self.prazo_s)
            except TimeoutError:
                log.info("recovery: no hand-over from %s within %.1f s", dono, self.prazo_s)
                return None
            # From here to the return, no await: the namespace joins the socket's rooms right after.
            return self._montar(registro, pendente, pid)
        finally:
            del self._pendentes[pedido]
            adaptador.vigias.remove(pendente.locais)

    def _montar(self, registro: PacketLog, pendente: _Pendente, pid: str) -> Replay | None:
        resposta, eco = pendente.resposta, pendente.eco
        if resposta is None or eco is None or not resposta.ok:
            return None
        rooms = frozenset(resposta.rooms)
        config = self.config
        locais = pendente.locais
        try:
            da_casa = [_de_partes(partes) for partes in resposta.pacotes]
        except ValueError:
            return None
        daqui = registro.missed(
            resposta.sid,
            rooms,
            pendente.inicio,
            config.max_session_packets,
            config.max_session_bytes,
            keep=lambda n: n > eco or n in locais,
        )
        if daqui is None:
            return None
        pacotes = da_casa + daqui
        if len(pacotes) > config.max_session_packets:
            return None
        if sum(len(p.ws) + len(p.poll) for p in pacotes) > config.max_session_bytes:
            return None
        head = registro.head
        session = SavedSession(
            pid=pid,
            sid=resposta.sid,
            nsp=resposta.nsp,
            rooms=rooms,
            data=resposta.data,
            start=head,
            saved_at=self.clock() - resposta.idade,
            needs_offset_from=head + 1 if pacotes else 0,
        )
        return Replay(session, pacotes, head, needs_offset_from=session.needs_offset_from)

    def ao_eco(self, adaptador: RedisAdapter, envelope: Retomar) -> None:
        """Our own request came back from Redis: the hand-over point in this instance's log."""
        pendente = self._pendentes.get(envelope.pedido)
        if pendente is not None and adaptador.log is not None:
            pendente.eco = adaptador.log.head
            pendente.talvez_pronto()

    def _resposta(self, dados: bytes) -> None:
        if len(dados) > _MAX_RESPOSTA:
            return
        try:
            resposta = Entrega.model_validate_json(dados)
        except ValidationError:
            log.debug("recovery: malformed hand-over answer dropped")
            return
        pendente = self._pendentes.get(resposta.pedido)
        if pendente is not None and pendente.resposta is None:
            pendente.resposta = resposta
            pendente.talvez_pronto()

    # --- the home --------------------------------------------------------------------------------------

    def ao_pedido(self, adaptador: RedisAdapter, envelope: Retomar) -> None:
        """Another instance asks for a session: hand it over if it is ours and restorable (single use).

        Our own emits whose echo has not come back yet were published after the request: the
        instance that asked gets them from Redis itself, so they are left out here.
        """
        if envelope.dono != self.instancia:
            return
        em_voo = frozenset(adaptador.em_voo)
        keep = (lambda n: n not in em_voo) if em_voo else None
        replay = self.local.take_now(envelope.nsp, envelope.pid, envelope.offset, keep)
        corpo: dict[str, Any] = {"v": 1, "pedido": envelope.pedido, "ok": False}
        if replay is not None:
            session = replay.session
            corpo.update(
                ok=True,
                sid=session.sid,
                nsp=session.nsp,
                rooms=sorted(session.rooms),
                data=session.data,
                idade=max(0.0, self.clock() - session.saved_at),
                pacotes=[_partes(out) for out in replay.packets],
            )
        try:
            dados = json.dumps(corpo, separators=(",", ":"), default=_json_padrao).encode()
        except (TypeError, ValueError) as exc:
            log.warning(
                "recovery: session %s not handed over, its data is not JSON: %s", envelope.pid[:6], exc
            )
            dados = json.dumps({"v": 1, "pedido": envelope.pedido, "ok": False}).encode()
        else:
            if corpo["ok"]:
                self.entregues += 1
        self.link.publicar(reply_channel(envelope.instance), dados)
