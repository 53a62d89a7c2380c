"""The Lua scripts of cluster presence: each one is atomic in Redis, which is what makes edges exact.

Every script declares its keys (``KEYS``), and the keys of one script share a hash tag, so each runs on
one shard of a Redis Cluster (and on the one Redis otherwise). Keys (``P`` = prefix, default
``atendimento:presenca:``; ``{E}`` = the tenant's tag, ``envelopes.etiqueta``):

- ``P{E}:inst:{instancia}``  hash userId → that instance's socket count for the user
- ``P{E}:total``             hash userId → socket count across every instance
- ``P{E}:online``            hash userId → name, the users announced online (``atendente:online`` sent,
  ``atendente:offline`` not yet): what GET /atendimento/atendentes reads
- ``P{E}:pendentes``         zset userId → ms when the user's last socket anywhere left (grace running)
- ``P{instancias}:set``                  set of instance ids that have registered
- ``P{instancias}:vivo:{instancia}``     string with a TTL of 3 heartbeats: alive while it exists
- ``P{instancias}:empresas:{instancia}`` set of the tenants the instance wrote counts in (what a
  survivor must clean when it dies)
- ``P{instancias}:a_vencer``             zset tenant → ms: tenants a stopping instance left with grace
  periods running, settled by whichever instance claims them on its heartbeat

The instance-wide keys share the tag ``{instancias}`` (one slot: the liveness scripts read other
instances' ``vivo`` keys, built from the prefix, which are in that same slot). Time comes from Redis
``TIME`` so every instance of a shard shares one clock. The tenant scripts return a flat list of
5-tuples ``kind, empresaId, userId, name, ms`` where ``kind`` is ``on`` (announce online), ``off``
(announce offline) or ``zero`` (grace period started: run VENCER for that tenant later).
"""

from __future__ import annotations

_AGORA = """
local t = redis.call('TIME')
local agora = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# Set this instance's counts in one tenant to the absolute values given. Absolute, not deltas, so a
# script that ran but whose answer was lost can run again without counting anything twice.
# KEYS: inst, total, online, pendentes. ARGV: empresaId, complete ('1': users of this instance in
# this tenant not listed go to 0), then 3 per user: userId, name, count.
SINCRONIZAR = (
    _AGORA
    + """
local inst, ktotal, konline, kpend = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local empresa = ARGV[1]
local saida = {}
local vistos = {}
local function ajustar(usuario, nome, novo)
  local antigo = tonumber(redis.call('HGET', inst, usuario) or '0')
  if novo == antigo then return end
  if novo > 0 then redis.call('HSET', inst, usuario, novo) else redis.call('HDEL', inst, usuario) end
  local delta = novo - antigo
  local total = redis.call('HINCRBY', ktotal, usuario, delta)
  local antes = total - delta
  if total <= 0 then
    redis.call('HDEL', ktotal, usuario)
    if antes > 0 then
      redis.call('ZADD', kpend, agora, usuario)
      for _, v in ipairs({'zero', empresa, usuario, '', tostring(agora)}) do table.insert(saida, v) end
    end
  elseif antes <= 0 then
    redis.call('ZREM', kpend, usuario)
    if redis.call('HSETNX', konline, usuario, nome) == 1 then
      for _, v in ipairs({'on', empresa, usuario, nome, tostring(agora)}) do table.insert(saida, v) end
    end
  end
end
for i = 3, #ARGV, 3 do
  vistos[ARGV[i]] = true
  ajustar(ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]))
end
if ARGV[2] == '1' then
  for _, usuario in ipairs(redis.call('HKEYS', inst)) do
    if not vistos[usuario] then ajustar(usuario, '', 0) end
  end
end
return saida
"""
)

# Announce offline every user of one tenant whose grace period is over and who has no socket
# anywhere. Atomic: whichever instance runs it first emits, the others find nothing left to do.
# KEYS: total, online, pendentes. ARGV: empresaId, grace in ms.
VENCER = (
    _AGORA
    + """
local ktotal, konline, kpend = KEYS[1], KEYS[2], KEYS[3]
local limite = agora - tonumber(ARGV[2])
local vencidos = redis.call('ZRANGEBYSCORE', kpend, '-inf', limite, 'WITHSCORES', 'LIMIT', 0, 1000)
local saida = {}
for i = 1, #vencidos, 2 do
  local usuario = vencidos[i]
  redis.call('ZREM', kpend, usuario)
  if tonumber(redis.call('HGET', ktotal, usuario) or '0') <= 0 then
    local nome = redis.call('HGET', konline, usuario)
    if nome then
      redis.call('HDEL', konline, usuario)
      for _, v in ipairs({'off', ARGV[1], usuario, nome, vencidos[i + 1]}) do table.insert(saida, v) end
    end
  end
end
return saida
"""
)

# A dead instance's counts in one tenant: subtract them from the totals, and put the users left with
# no socket straight into the due part of PENDENTES (unreachable for longer than the grace already).
# Run only by the survivor whose RECLAMAR claimed the dead instance.
# KEYS: the dead instance's inst hash, total, pendentes. ARGV: grace in ms. Returns how many users.
VARRER = (
    _AGORA
    + """
local inst, ktotal, kpend = KEYS[1], KEYS[2], KEYS[3]
local campos = redis.call('HGETALL', inst)
redis.call('DEL', inst)
local vencido = agora - tonumber(ARGV[1])
for i = 1, #campos, 2 do
  local total = redis.call('HINCRBY', ktotal, campos[i], -tonumber(campos[i + 1]))
  if total <= 0 then
    redis.call('HDEL', ktotal, campos[i])
    redis.call('ZADD', kpend, vencido, campos[i])
  end
end
return #campos / 2
"""
)

# The heartbeat: refresh VIVO, (re-)register, and list the other registered instances, each with 1
# when alive, 0 when its VIVO is gone (candidates for RECLAMAR, which checks again atomically). One
# round trip per heartbeat. Returns {novo, id1, vivo1, id2, vivo2, ...}: novo is 1 when the instance was
# not registered, i.e. it is new or a survivor swept it while it was cut off; either way its counts
# must be written again.
# KEYS: set, this instance's vivo. ARGV: instance, TTL in ms, the vivo prefix (same tag).
BATIMENTO = """
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
local saida = {redis.call('SADD', KEYS[1], ARGV[1])}
for _, outra in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if outra ~= ARGV[1] then
    table.insert(saida, outra)
    table.insert(saida, redis.call('EXISTS', ARGV[3] .. outra))
  end
end
return saida
"""

# Claim a dead instance: SREM is the claim, only one survivor gets past it. Answers the tenants it had
# counts in (and forgets them), for the claimer to VARRER each; empty when not claimed.
# KEYS: set, the dead instance's vivo, its empresas set.
RECLAMAR = """
if redis.call('EXISTS', KEYS[2]) == 1 then return {} end
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return {} end
local empresas = redis.call('SMEMBERS', KEYS[3])
redis.call('DEL', KEYS[3])
return empresas
"""

# Take the tenants whose grace periods a stopped instance left running and that are due now: each is
# answered to one caller only (ZREM is the claim). KEYS: a_vencer. ARGV: none.
A_VENCER = (
    _AGORA
    + """
local devidas = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', agora, 'LIMIT', 0, 1000)
local saida = {}
for _, empresa in ipairs(devidas) do
  if redis.call('ZREM', KEYS[1], empresa) == 1 then table.insert(saida, empresa) end
end
return saida
"""
)
