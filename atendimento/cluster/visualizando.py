"""Who has a ticket open, across instances: the gateway's ``RegistroVisualizando`` over Redis.

Each instance counts its own sockets in memory (``RegistroLocal``: the truth for its share) and keeps
one hash field per (instance, user) in ``{prefixo}{ticketId}`` while it has at least one socket of that
user in that ticket's room. Only those edges touch Redis; a second tab on the same instance does not.

One script does the write and answers the cluster-wide set before and after, atomically, so exactly
one instance sees each change of the set and publishes it (through the Redis adapter, to every
instance's sockets in the room). Fields of an instance whose presence heartbeat key (``vivo:``, see
presenca_lua.py) is gone are dropped when read, so the viewers of an instance that died without a
goodbye disappear at the next change of that ticket; the hash itself expires a day after its last
write, so an abandoned one never stays.

While Redis is away, the answers are this instance's own sockets (logged); nothing raises into the
gateway.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from atendimento.cluster.presenca import PREFIXO_PRESENCA
from atendimento.gateway.portas import Mudanca, RegistroLocal, ordenar

log = logging.getLogger(__name__)

PREFIXO_VISUALIZANDO = "atendimento:visualizando:"
VIDA_S = 24 * 3600

# ARGV: prefixo, prefixo da presença, instância, ticket, usuário, nome ('' = this instance's last
# socket of that user left), vida (s). Returns {mudou (0/1), usuario1, nome1, usuario2, nome2, ...}.
MUDAR = """
local chave = ARGV[1] .. ARGV[4]
local campo = ARGV[3] .. '|' .. ARGV[5]
local function vivos()
  local todos = redis.call('HGETALL', chave)
  local usuarios = {}
  for i = 1, #todos, 2 do
    local f = todos[i]
    local sep = string.find(f, '|', 1, true)
    local inst = string.sub(f, 1, sep - 1)
    if inst == ARGV[3] or redis.call('EXISTS', ARGV[2] .. 'vivo:' .. inst) == 1 then
      usuarios[string.sub(f, sep + 1)] = todos[i + 1]
    else
      redis.call('HDEL', chave, f)
    end
  end
  return usuarios
end
local antes = vivos()
if ARGV[6] == '' then
  redis.call('HDEL', chave, campo)
else
  redis.call('HSET', chave, campo, ARGV[6])
  redis.call('EXPIRE', chave, ARGV[7])
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
        redis: Redis,
        instancia: str,
        *,
        prefixo: str = PREFIXO_VISUALIZANDO,
        prefixo_presenca: str = PREFIXO_PRESENCA,
    ) -> None:
        if "|" in instancia:
            raise ValueError("instance ids must not contain '|' (the field separator)")
        self._redis = redis
        self._instancia = instancia
        self._prefixo = prefixo
        self._prefixo_presenca = prefixo_presenca
        self._local = RegistroLocal()
        self._mudar = redis.register_script(MUDAR)

    async def entrou(self, ticket_id: str, usuario_id: str, nome: str, sid: str) -> Mudanca:
        local = await self._local.entrou(ticket_id, usuario_id, nome, sid)
        # Not an edge here (another tab of this user on this instance): rewriting the same field is
        # harmless and answers the current set, which the new tab needs.
        return await self._escrever(ticket_id, usuario_id, nome, local)

    async def saiu(self, ticket_id: str, sid: str) -> Mudanca | None:
        usuario_id = self._local.usuario_de(sid, ticket_id)
        local = await self._local.saiu(ticket_id, sid)
        if local is None or usuario_id is None:
            return None
        if not local.mudou:
            return Mudanca(False, local.usuarios)  # the user still has a socket here
        return await self._escrever(ticket_id, usuario_id, "", local)

    def tickets_de(self, sid: str) -> list[str]:
        return self._local.tickets_de(sid)

    async def fechar(self) -> None:
        """Take this instance's viewers out of Redis (best effort); the others' next change tells."""
        chaves = self._local.todos()
        await self._local.fechar()
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for ticket_id, usuario_id in chaves:
                    pipe.hdel(f"{self._prefixo}{ticket_id}", f"{self._instancia}|{usuario_id}")
                await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("visualizando: goodbye to Redis failed: %s", exc)

    async def _escrever(self, ticket_id: str, usuario_id: str, nome: str, local: Mudanca) -> Mudanca:
        args: list[str | int] = [
            self._prefixo,
            self._prefixo_presenca,
            self._instancia,
            ticket_id,
            usuario_id,
            nome,
            VIDA_S,
        ]
        try:
            resposta = await self._mudar(args=args)
        except (RedisError, OSError) as exc:
            log.warning("visualizando: Redis unavailable, answering this instance's sockets: %s", exc)
            return local
        valores = [_texto(v) for v in resposta]
        usuarios = {valores[i]: valores[i + 1] for i in range(1, len(valores) - 1, 2)}
        return Mudanca(valores[0] == "1", ordenar(usuarios))
