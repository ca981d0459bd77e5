// One Lua script per operation, each run atomically in one round trip (docs/architecture.md "The
// store", Redis column). Keys are `sb:{P}:…`: the project is the hash tag, so every key a script
// touches is in one slot (Redis Cluster routes by KEYS[1]; an ACL user given `~sb:{P}:*` is
// confined to the project). A script that fails halfway keeps its earlier writes (Redis 7.0), and
// with `maxmemory-policy noeviction` the first write is the one an out-of-memory server refuses:
// so every check comes before any write, and the first write is one that is harmless alone.
//   roles        set of the project's roles (joined, or queued for)
//   names        hash: lower-case name → the spelling in use (one name whatever the case)
//   in:R         R's inbox stream, one entry per message, field m = the message's JSON line
//   st:R         hash: cur (last consumed entry id), claimed (highest id handed to a reader),
//                kept (consumed entries still in the stream), tok (the last commit's token)
//   rc:R         receipts stream: at, by, ids, from, to (the entry ids of the consumed range)
//   lease:R      the consume in progress (SET NX PX): its token
//   id:ID        the message's envelope and where it went: a retried send finds it (idempotent)
//   live, ses    sessions: sorted set of "R\tkey" by deadline in server time, hash of records
//   wake         the channel a send publishes each recipient role on

export const HELPERS = `
local function after(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am > bm or (am == bm and as > bs)
end
-- One name, one role, whatever the case (as the file store: src/bus/names.ts): the spelling
-- already in use when \`name\` differs from it only in case.
local function twin(p, name)
  local have = redis.call('HGET', p .. 'names', string.lower(name))
  if have and have ~= name then return have end
  return nil
end
local function join(p, name)
  redis.call('SADD', p .. 'roles', name)
  redis.call('HSET', p .. 'names', string.lower(name), name)
end
-- Messages in R's inbox not yet consumed (the stream keeps \`kept\` consumed ones until trimmed).
local function unread(p, r)
  return redis.call('XLEN', p .. 'in:' .. r) - tonumber(redis.call('HGET', p .. 'st:' .. r, 'kept') or '0')
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** ARGV: prefix, id, line, from, to, queue ("1"), cap, idTtlSeconds, envelope JSON. → {'ok'|'dup', stored, {role, live session JSON, …}} or an error code. */
export const SEND = `${HELPERS}
local p = ARGV[1]
local roles = p .. 'roles'
local idkey = p .. 'id:' .. ARGV[2]
local prior = redis.call('GET', idkey)
if prior then return {'dup', prior} end
local from, to = ARGV[4], ARGV[5]
for _, name in ipairs({from, to}) do
  if name ~= '*' and twin(p, name) then return {'E_BAD_NAME', name, twin(p, name)} end
end
local targets = {}
if to == '*' then
  for _, r in ipairs(redis.call('SMEMBERS', roles)) do if r ~= from then table.insert(targets, r) end end
  table.sort(targets)
  if #targets == 0 then return {'E_NO_RECIPIENTS'} end
else
  if ARGV[6] ~= '1' and redis.call('SISMEMBER', roles, to) == 0 then
    local known = redis.call('SMEMBERS', roles)
    table.sort(known)
    return {'E_UNKNOWN_ROLE', table.concat(known, ', ')}
  end
  targets = {to}
end
local cap = tonumber(ARGV[7])
for _, r in ipairs(targets) do
  local waiting = unread(p, r)
  if waiting >= cap then return {'E_BACKLOG', r, tostring(waiting)} end
end
join(p, from)
local at = {}
for _, r in ipairs(targets) do
  join(p, r)
  local sid = redis.call('XADD', p .. 'in:' .. r, '*', 'm', ARGV[3])
  table.insert(at, {r, sid})
end
local stored = '{"m":' .. ARGV[9] .. ',"at":' .. cjson.encode(at) .. '}'
redis.call('SET', idkey, stored, 'EX', tonumber(ARGV[8]))
for _, r in ipairs(targets) do redis.call('PUBLISH', p .. 'wake', r) end
-- The recipients' live sessions, in the same round trip: {role, record JSON, …}.
local now = now_ms()
local live = {}
local all = redis.call('ZRANGEBYSCORE', p .. 'live', now + 1, '+inf')
for _, r in ipairs(targets) do
  local head = r .. '\t'
  for _, member in ipairs(all) do
    if string.sub(member, 1, #head) == head then
      table.insert(live, r)
      table.insert(live, redis.call('HGET', p .. 'ses', member) or '{}')
    end
  end
end
return {'ok', stored, live}
`;

/** ARGV: prefix, role, token. Gives back a lease whose claim took nothing (nothing was shown). */
export const RELEASE = `
local p, r = ARGV[1], ARGV[2]
if redis.call('GET', p .. 'lease:' .. r) == ARGV[3] then
  redis.call('HSET', p .. 'st:' .. r, 'claimed', redis.call('HGET', p .. 'st:' .. r, 'cur') or '0-0')
  redis.call('DEL', p .. 'lease:' .. r)
end
return 1
`;

/**
 * ARGV: prefix, role, token, leaseMs, max. → {'busy', pttl} | {'empty'} | {'ok', claimedBefore, cur, entries}.
 * Joins the role first (the file store makes its folder): a write that is harmless alone.
 */
export const CLAIM = `${HELPERS}
local p, r = ARGV[1], ARGV[2]
if twin(p, r) then return {'E_BAD_NAME', r, twin(p, r)} end
join(p, r)
local st, lease = p .. 'st:' .. r, p .. 'lease:' .. r
local holder = redis.call('GET', lease)
if holder and holder ~= ARGV[3] then return {'busy', redis.call('PTTL', lease)} end
local cur = redis.call('HGET', st, 'cur') or '0-0'
local entries = redis.call('XRANGE', p .. 'in:' .. r, '(' .. cur, '+', 'COUNT', tonumber(ARGV[5]))
if #entries == 0 then return {'empty'} end
redis.call('SET', lease, ARGV[3], 'PX', tonumber(ARGV[4]))
local claimed = redis.call('HGET', st, 'claimed') or '0-0'
local last = entries[#entries][1]
if after(last, claimed) then redis.call('HSET', st, 'claimed', last) end
return {'ok', claimed, cur, entries}
`;

/** ARGV: prefix, role, token, toId, at, by, ids JSON, fromId, count, keep. → {'ok'} | {'done'} | {'lost'}. */
export const COMMIT = `${HELPERS}
local p, r = ARGV[1], ARGV[2]
local st, lease, inbox = p .. 'st:' .. r, p .. 'lease:' .. r, p .. 'in:' .. r
local cur = redis.call('HGET', st, 'cur') or '0-0'
if redis.call('GET', lease) ~= ARGV[3] then
  -- A commit sent again after a reconnect finds its own token: it landed the first time.
  if redis.call('HGET', st, 'tok') == ARGV[3] and not after(ARGV[4], cur) then return {'done'} end
  return {'lost'}
end
redis.call('XADD', p .. 'rc:' .. r, 'MAXLEN', '~', tonumber(ARGV[10]), '*', 'at', ARGV[5], 'by', ARGV[6], 'ids', ARGV[7], 'from', ARGV[8], 'to', ARGV[4])
redis.call('HSET', st, 'cur', ARGV[4], 'claimed', ARGV[4], 'tok', ARGV[3])
local kept = redis.call('HINCRBY', st, 'kept', tonumber(ARGV[9]))
redis.call('DEL', lease)
local keep = tonumber(ARGV[10])
if kept > 2 * keep then
  local newest = redis.call('XREVRANGE', inbox, ARGV[4], '-', 'COUNT', keep)
  if #newest == keep then
    redis.call('XTRIM', inbox, 'MINID', newest[keep][1])
    redis.call('HSET', st, 'kept', keep)
  end
end
return {'ok'}
`;

/** ARGV: prefix, role, max → {cur, entries (unread, oldest first)}. */
export const PEEK = `
local p, r = ARGV[1], ARGV[2]
local cur = redis.call('HGET', p .. 'st:' .. r, 'cur') or '0-0'
return {cur, redis.call('XRANGE', p .. 'in:' .. r, '(' .. cur, '+', 'COUNT', tonumber(ARGV[3]))}
`;

/** ARGV: prefix, role, limit → {cur, entries (newest first)}. */
export const TAIL = `
local p, r = ARGV[1], ARGV[2]
local cur = redis.call('HGET', p .. 'st:' .. r, 'cur') or '0-0'
return {cur, redis.call('XREVRANGE', p .. 'in:' .. r, '+', '-', 'COUNT', tonumber(ARGV[3]))}
`;

/** ARGV: prefix → {role, unread, …} sorted by role. */
export const ROLES = `${HELPERS}
local p = ARGV[1]
local roles = redis.call('SMEMBERS', p .. 'roles')
table.sort(roles)
local out = {}
for _, r in ipairs(roles) do
  table.insert(out, r)
  table.insert(out, unread(p, r))
end
return out
`;

/** ARGV: prefix, id → {stored or false, role, cur, …}. */
export const STATUS = `
local p = ARGV[1]
local stored = redis.call('GET', p .. 'id:' .. ARGV[2])
if not stored then return {false} end
local out = {stored}
for _, at in ipairs(cjson.decode(stored).at) do
  table.insert(out, at[1])
  table.insert(out, redis.call('HGET', p .. 'st:' .. at[1], 'cur') or '0-0')
end
return out
`;

/** ARGV: prefix, role, key, record JSON, ttlMs, forgetMs → now (server ms) | {'E_BAD_NAME', …}. Liveness by server TIME only. */
export const TOUCH = `${HELPERS}
local p = ARGV[1]
if twin(p, ARGV[2]) then return {'E_BAD_NAME', ARGV[2], twin(p, ARGV[2])} end
local now = now_ms()
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', p .. 'live', '-inf', now - tonumber(ARGV[6]))) do
  redis.call('ZREM', p .. 'live', gone)
  redis.call('HDEL', p .. 'ses', gone)
end
local member = ARGV[2] .. '\\t' .. ARGV[3]
redis.call('ZADD', p .. 'live', now + tonumber(ARGV[5]), member)
redis.call('HSET', p .. 'ses', member, ARGV[4])
join(p, ARGV[2])
return now
`;

/** ARGV: prefix, role → {now, record JSON, deadline, …}. */
export const SESSIONS = `${HELPERS}
local p = ARGV[1]
local out = {now_ms()}
local head = ARGV[2] .. '\\t'
local all = redis.call('ZRANGE', p .. 'live', 0, -1, 'WITHSCORES')
for i = 1, #all, 2 do
  if string.sub(all[i], 1, #head) == head then
    table.insert(out, redis.call('HGET', p .. 'ses', all[i]) or '{}')
    table.insert(out, all[i + 1])
  end
end
return out
`;
