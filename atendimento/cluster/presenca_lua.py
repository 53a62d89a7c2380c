"""The Lua scripts of cluster presence: each one is atomic in Redis, which is what makes edges exact.

Keys (``P`` = prefix, default ``atendimento:presenca:``; a field ``F`` is the JSON ``[empresaId, userId]``):

- ``P inst:{instancia}``  hash F → this instance's socket count for the user
- ``P total:{empresa}``   hash userId → socket count across every instance
- ``P online:{empresa}``  hash userId → name, the users announced online (``atendente:online`` sent,
  ``atendente:offline`` not yet): what GET /atendimento/atendentes reads
- ``P pendentes``         zset F → ms when the user's last socket anywhere left (grace period running)
- ``P instancias``        set of instance ids that have registered
- ``P vivo:{instancia}``  string with a TTL of 3 heartbeats: the instance is alive while it exists

Keys are built inside the scripts from the prefix, so this needs one Redis primary (standalone or
Sentinel), not Redis Cluster. Time comes from Redis ``TIME`` so every instance shares one clock.
Each script returns a flat list of 5-tuples ``kind, empresaId, userId, name, ms`` where ``kind`` is
``on`` (announce online), ``off`` (announce offline) or ``zero`` (grace period started: run VENCER later).
"""

from __future__ import annotations

_AGORA = """
local t = redis.call('TIME')
local agora = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# Set this instance's counts to the absolute values given. Absolute, not deltas, so a script that
# ran but whose answer was lost can run again without counting anything twice.
# ARGV: prefix, instance, complete ('1': fields of this instance not listed go to 0), then
# 5 per user: field, empresaId, userId, name, count.
SINCRONIZAR = (
    _AGORA
    + """
local p = ARGV[1]
local inst = p .. 'inst:' .. ARGV[2]
local saida = {}
local vistos = {}
local function ajustar(campo, empresa, usuario, nome, novo)
  local antigo = tonumber(redis.call('HGET', inst, campo) or '0')
  if novo == antigo then return end
  if novo > 0 then redis.call('HSET', inst, campo, novo) else redis.call('HDEL', inst, campo) end
  local ktotal = p .. 'total:' .. empresa
  local delta = novo - antigo
  local total = redis.call('HINCRBY', ktotal, usuario, delta)
  local antes = total - delta
  if total <= 0 then
    redis.call('HDEL', ktotal, usuario)
    if antes > 0 then
      redis.call('ZADD', p .. 'pendentes', agora, campo)
      for _, v in ipairs({'zero', empresa, usuario, '', tostring(agora)}) do table.insert(saida, v) end
    end
  elseif antes <= 0 then
    redis.call('ZREM', p .. 'pendentes', campo)
    if redis.call('HSETNX', p .. 'online:' .. empresa, usuario, nome) == 1 then
      for _, v in ipairs({'on', empresa, usuario, nome, tostring(agora)}) do table.insert(saida, v) end
    end
  end
end
for i = 4, #ARGV, 5 do
  vistos[ARGV[i]] = true
  ajustar(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], tonumber(ARGV[i + 4]))
end
if ARGV[3] == '1' then
  for _, campo in ipairs(redis.call('HKEYS', inst)) do
    if not vistos[campo] then
      local ok, eu = pcall(cjson.decode, campo)
      if ok and type(eu) == 'table' then ajustar(campo, eu[1], eu[2], '', 0)
      else redis.call('HDEL', inst, campo) end
    end
  end
end
return saida
"""
)

# Announce offline every user whose grace period is over and who has no socket anywhere. Atomic:
# whichever instance runs it first emits, the others find nothing left to do.
# ARGV: prefix, grace in ms.
VENCER = (
    _AGORA
    + """
local p = ARGV[1]
local limite = agora - tonumber(ARGV[2])
local vencidos = redis.call('ZRANGEBYSCORE', p .. 'pendentes', '-inf', limite, 'WITHSCORES', 'LIMIT', 0, 1000)
local saida = {}
for i = 1, #vencidos, 2 do
  local campo = vencidos[i]
  redis.call('ZREM', p .. 'pendentes', campo)
  local ok, eu = pcall(cjson.decode, campo)
  if ok and type(eu) == 'table' then
    local total = tonumber(redis.call('HGET', p .. 'total:' .. eu[1], eu[2]) or '0')
    if total <= 0 then
      local nome = redis.call('HGET', p .. 'online:' .. eu[1], eu[2])
      if nome then
        redis.call('HDEL', p .. 'online:' .. eu[1], eu[2])
        for _, v in ipairs({'off', eu[1], eu[2], nome, vencidos[i + 1]}) do table.insert(saida, v) end
      end
    end
  end
end
return saida
"""
)

# Take over a dead instance (its VIVO key expired): remove its counts from the totals, and put the
# users left with no socket straight into the due part of PENDENTES (they have been unreachable for
# longer than the grace period already). SREM is the claim: only one surviving instance gets past it.
# ARGV: prefix, dead instance, grace in ms. Returns how many users the dead instance held.
VARRER = (
    _AGORA
    + """
local p = ARGV[1]
local morta = ARGV[2]
if redis.call('EXISTS', p .. 'vivo:' .. morta) == 1 then return 0 end
if redis.call('SREM', p .. 'instancias', morta) == 0 then return 0 end
local inst = p .. 'inst:' .. morta
local campos = redis.call('HGETALL', inst)
redis.call('DEL', inst)
local vencido = agora - tonumber(ARGV[3])
for i = 1, #campos, 2 do
  local ok, eu = pcall(cjson.decode, campos[i])
  if ok and type(eu) == 'table' then
    local ktotal = p .. 'total:' .. eu[1]
    local total = redis.call('HINCRBY', ktotal, eu[2], -tonumber(campos[i + 1]))
    if total <= 0 then
      redis.call('HDEL', ktotal, eu[2])
      redis.call('ZADD', p .. 'pendentes', vencido, campos[i])
    end
  end
end
return #campos / 2
"""
)

# The heartbeat: refresh VIVO, (re-)register, and list the other registered instances whose VIVO is
# gone (candidates for VARRER, which checks again atomically). One round trip per heartbeat.
# Returns {novo, dead...}: novo is 1 when the instance was not registered, i.e. it is new or a survivor
# swept it while it was cut off; either way its counts must be written again.
# ARGV: prefix, instance, TTL in ms.
BATIMENTO = """
local p = ARGV[1]
redis.call('SET', p .. 'vivo:' .. ARGV[2], '1', 'PX', ARGV[3])
local saida = {redis.call('SADD', p .. 'instancias', ARGV[2])}
for _, outra in ipairs(redis.call('SMEMBERS', p .. 'instancias')) do
  if outra ~= ARGV[2] and redis.call('EXISTS', p .. 'vivo:' .. outra) == 0 then table.insert(saida, outra) end
end
return saida
"""
