"""Who has a ticket open, across instances: the gateway's ``RegistroVisualizando`` over Redis.

Each instance counts its own sockets in memory (``RegistroLocal``: the truth for its share) and keeps
one hash field per (instance, user) in ``{prefixo}{ticketId}`` while it has at least one socket of that
user in that ticket's room. Only those edges touch Redis; a second tab on the same instance does not.

One script does the write and answers the cluster-wide set before and after, atomically, so exactly
one instance sees each change of the set and publishes it (through the Redis adapter, to every
instance's sockets in the room). The hash is ``{prefixo}{empresa}:{ticketId}`` (the tenant's hash tag:
one shard). Which instances are alive is presence's business, whose keys live elsewhere: the caller
passes the instances alive at its last heartbeat, and an entry of any other instance is dropped once
it is older than two heartbeats (a newer instance's fresh entries stay until the caller's next
heartbeat knows it). So the viewers of an instance that died without a goodbye disappear at the next
change of that ticket once its heartbeat key is gone; the hash itself expires a day after its last
write, so an abandoned one never stays.

While Redis is away, the answers are this instance's own sockets (logged); nothing raises into the
gateway, and each write that failed is kept to be redone. When Redis is back (``disponibilidade``,
told by the link), the instance writes again every (ticket, user) it counts, and redoes the failed
ones: Redis may have lost fields meanwhile (a replica promoted before the last writes reached it,
replication being asynchronous; one Redis restarted without persistence), and a leave that failed
left a field that would otherwise stay as long as this instance lives. A redo writes what this
instance counts at that moment (the field, or its removal); where that changes a ticket's set, the
new set is told to the room (``ouvir``), so the viewers heard after a failover are right without
waiting for the next ``ticket:entrar``. Where nothing was lost, each rewrite finds its field in place
and nothing is told. A write that fails while the link is up (a pooled connection that was the dead
one) is redone the same way, with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection

from atendimento.cluster.envelopes import etiqueta
from atendimento.cluster.topologia import ERROS_REDIS, Cliente
from atendimento.gateway.portas import Mudanca, OuvinteVisualizando, RegistroLocal, ordenar

log = logging.getLogger(__name__)

PREFIXO_VISUALIZANDO = "atendimento:visualizando:"
VIDA_S = 24 * 3600
REESCRITA_ESPERA_S = (0.1, 2.0)  # between tries of the rewrite after Redis is back (doubling)

# KEYS: the ticket's hash. ARGV: this instance, user, name ('' = this instance's last socket of that
# user left), lifetime (s), how old (ms) an entry of an instance not alive must be to be dropped, then
# the instances alive at this instance's last heartbeat. A value is "<ms written>|<name>".
# Returns {mudou (0/1), usuario1, nome1, usuario2, nome2, ...}.
MUDAR = """
local t = redis.call('TIME')
local agora = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local chave = KEYS[1]
local campo = ARGV[1] .. '|' .. ARGV[2]
local vivas = {[ARGV[1]] = true}
for i = 6, #ARGV do vivas[ARGV[i]] = true end
local function vivos()
  local todos = redis.call('HGETALL', chave)
  local usuarios = {}
  for i = 1, #todos, 2 do
    local f, valor = todos[i], todos[i + 1]
    local sep = string.find(f, '|', 1, true)
    local inst = sep and string.sub(f, 1, sep - 1) or ''
    local corte = string.find(valor, '|', 1, true)
    local quando = corte and tonumber(string.sub(valor, 1, corte - 1)) or 0
    if vivas[inst] or (quando and agora - quando < tonumber(ARGV[5])) then
      usuarios[string.sub(f, sep + 1)] = corte and string.sub(valor, corte + 1) or valor
    else
      redis.call('HDEL', chave, f)
    end
  end
  return usuarios
end
local antes = vivos()
if ARGV[3] == '' then
  redis.call('HDEL', chave, campo)
else
  redis.call('HSET', chave, campo, agora .. '|' .. ARGV[3])
  redis.call('EXPIRE', chave, ARGV[4])
end
local depois = vivos()
local mudou = 0
for u, _ in pairs(antes) do if depois[u] == nil then mudou = 1 end end
for u, _ in pairs(depois) do if antes[u] == nil then mudou = 1 end end
local saida = {mudou}
for u, n in pairs(depois) do table.insert(saida, u); table.insert(saida, n) end
return saida
"""


def _texto(valor: bytes | str | int) -> str:
    return valor.decode() if isinstance(valor, bytes) else str(valor)


class RegistroCluster:
    """``RegistroVisualizando`` across instances (see the module docstring)."""

    def __init__(
        self,
        redis: Cliente,
        instancia: str,
        *,
        vivas: Callable[[], Collection[str]] = frozenset,
        idade_maxima_s: float = 10.0,
        prefixo: str = PREFIXO_VISUALIZANDO,
    ) -> None:
        if "|" in instancia:
            raise ValueError("instance ids must not contain '|' (the field separator)")
        self._redis = redis
        self._instancia = instancia
        self._prefixo = prefixo
        self._vivas = vivas
        self._idade_maxima_ms = int(idade_maxima_s * 1000)
        self._local = RegistroLocal()
        self._empresa_do_ticket: dict[str, str] = {}  # for the goodbye (ticket ids are unique)
        self._mudar = redis.register_script(MUDAR)
        self._ouvintes: list[OuvinteVisualizando] = []
        # (ticket, user) → tenant: writes to redo (failed, or Redis back and maybe without them).
        self._pendentes: dict[tuple[str, str], str] = {}
        self._reescrita: asyncio.Task[None] | None = None
        self.reescritas = 0  # scripts run to redo this instance's viewers (tests, operators)

    async def entrou(self, empresa_id: str, ticket_id: str, usuario_id: str, nome: str, sid: str) -> Mudanca:
        local = await self._local.entrou(empresa_id, ticket_id, usuario_id, nome, sid)
        self._empresa_do_ticket[ticket_id] = empresa_id
        # Not an edge here (another tab of this user on this instance): rewriting the same field is
        # harmless and answers the current set, which the new tab needs.
        return await self._escrever(empresa_id, ticket_id, usuario_id, nome, local)

    async def saiu(self, empresa_id: str, ticket_id: str, sid: str) -> Mudanca | None:
        usuario_id = self._local.usuario_de(sid, ticket_id)
        local = await self._local.saiu(empresa_id, ticket_id, sid)
        if local is None or usuario_id is None:
            return None
        if not local.usuarios:
            self._empresa_do_ticket.pop(ticket_id, None)  # nobody here has it open any more
        if not local.mudou:
            return Mudanca(False, local.usuarios)  # the user still has a socket here
        return await self._escrever(empresa_id, ticket_id, usuario_id, "", local)

    def tickets_de(self, sid: str) -> list[str]:
        return self._local.tickets_de(sid)

    def ouvir(self, ouvinte: OuvinteVisualizando) -> None:
        self._ouvintes.append(ouvinte)

    def disponibilidade(self, disponivel: bool) -> None:
        """The link's listener: Redis is back, so write this instance's viewers again (a task; a
        rewrite still running from an earlier return starts over)."""
        if self._reescrita is not None:
            self._reescrita.cancel()
            self._reescrita = None
        if disponivel:
            for ticket_id, usuario_id, _nome in self._local.todos():
                empresa_id = self._empresa_do_ticket.get(ticket_id)
                if empresa_id is not None:
                    self._pendentes[(ticket_id, usuario_id)] = empresa_id
            self._refazer()

    def _refazer(self) -> None:
        if self._pendentes and (self._reescrita is None or self._reescrita.done()):
            self._reescrita = asyncio.get_running_loop().create_task(
                self._reescrever(), name="visualizando-reescrita"
            )

    async def _reescrever(self) -> None:
        espera = REESCRITA_ESPERA_S[0]
        while self._pendentes:
            (ticket_id, usuario_id), empresa_id = next(iter(self._pendentes.items()))
            nome = self._local.nome_de(ticket_id, usuario_id)
            try:
                mudanca = await self._script(empresa_id, ticket_id, usuario_id, nome or "")
            except ERROS_REDIS as exc:
                # Redis away, or the link up again but a pooled connection still the dead one (the
                # first call on it fails): again shortly; the writes are idempotent.
                log.info("visualizando: redoing viewers' writes, again in %.1f s: %s", espera, exc)
                await asyncio.sleep(espera)
                espera = min(espera * 2, REESCRITA_ESPERA_S[1])
                continue
            espera = REESCRITA_ESPERA_S[0]
            self._contar(empresa_id, ticket_id, mudanca)
            if self._local.nome_de(ticket_id, usuario_id) == nome:
                self._pendentes.pop((ticket_id, usuario_id), None)
            # Otherwise the user entered or left while this write was on its way, and that one's own
            # write may have gone first: it stays pending and is written again, as it is now.

    def _contar(self, empresa_id: str, ticket_id: str, mudanca: Mudanca) -> None:
        self.reescritas += 1
        if not mudanca.mudou:
            return
        for ouvinte in self._ouvintes:
            try:
                ouvinte(empresa_id, ticket_id, mudanca.usuarios)
            except Exception:
                log.exception("visualizando: telling a rewritten set failed")

    async def fechar(self) -> None:
        """Take this instance's viewers out of Redis (best effort); the others' next change tells."""
        if self._reescrita is not None:
            self._reescrita.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reescrita
            self._reescrita = None
        self._pendentes.clear()
        chaves = self._local.todos()
        await self._local.fechar()
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for ticket_id, usuario_id, _nome in chaves:
                    empresa_id = self._empresa_do_ticket.get(ticket_id)
                    if empresa_id is not None:
                        pipe.hdel(self._chave(empresa_id, ticket_id), f"{self._instancia}|{usuario_id}")
                await pipe.execute()
        except ERROS_REDIS as exc:
            log.warning("visualizando: goodbye to Redis failed: %s", exc)

    def _chave(self, empresa_id: str, ticket_id: str) -> str:
        return f"{self._prefixo}{etiqueta(empresa_id)}:{ticket_id}"

    async def _escrever(
        self, empresa_id: str, ticket_id: str, usuario_id: str, nome: str, local: Mudanca
    ) -> Mudanca:
        try:
            return await self._script(empresa_id, ticket_id, usuario_id, nome)
        except ERROS_REDIS as exc:
            log.warning("visualizando: Redis unavailable, answering this instance's sockets: %s", exc)
            self._pendentes[(ticket_id, usuario_id)] = empresa_id
            self._refazer()
            return local

    async def _script(self, empresa_id: str, ticket_id: str, usuario_id: str, nome: str) -> Mudanca:
        """Write (``nome``) or remove (``""``) this instance's field of the user; raises Redis' errors."""
        args: list[str | int] = [self._instancia, usuario_id, nome, VIDA_S, self._idade_maxima_ms]
        args += sorted(self._vivas())
        resposta = await self._mudar(keys=[self._chave(empresa_id, ticket_id)], args=args)
        valores = [_texto(v) for v in resposta]
        usuarios = {valores[i]: valores[i + 1] for i in range(1, len(valores) - 1, 2)}
        return Mudanca(valores[0] == "1", ordenar(usuarios))
