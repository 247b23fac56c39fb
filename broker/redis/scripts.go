package redis

import "github.com/redis/rueidis"

// publishScript appends a publication to its topic's stream and publishes
// it with its position. KEYS: meta, stream, channel. ARGV: body, epoch to
// use if the stream is new, history (1/0), stream size, TTL seconds.
// Returns {epoch, offset}; offset 0 when not stored.
var publishScript = rueidis.NewLuaScript(`
local e = redis.call('hget', KEYS[1], 'e')
if ARGV[3] ~= '1' then
  redis.call('spublish', KEYS[3], 'p' .. (e or '') .. ' 0 ' .. ARGV[1])
  return {e or '', 0}
end
if not e then
  e = ARGV[2]
  redis.call('del', KEYS[2])
  redis.call('hset', KEYS[1], 'e', e)
end
local o = redis.call('hincrby', KEYS[1], 'o', 1)
redis.call('xadd', KEYS[2], 'MAXLEN', '~', ARGV[4], '0-' .. o, 'd', ARGV[1])
redis.call('expire', KEYS[1], ARGV[5])
redis.call('expire', KEYS[2], ARGV[5])
redis.call('spublish', KEYS[3], 'p' .. e .. ' ' .. o .. ' ' .. ARGV[1])
return {e, o}
`)

// historyScript reads a topic's position and the publications after an
// offset, atomically. KEYS: meta, stream. ARGV: since, limit. Returns
// {epoch, offset, entries}.
var historyScript = rueidis.NewLuaScript(`
local e = redis.call('hget', KEYS[1], 'e')
if not e then
  return {'', 0, {}}
end
local o = tonumber(redis.call('hget', KEYS[1], 'o') or '0')
local n = tonumber(ARGV[2])
local msgs = {}
if n > 0 and tonumber(ARGV[1]) < o then
  msgs = redis.call('xrange', KEYS[2], '0-' .. (tonumber(ARGV[1]) + 1), '+', 'COUNT', n)
end
return {e, o, msgs}
`)

// presenceSetScript writes (or refreshes) one presence entry with its
// expiry in Redis time and, when ARGV[4] is not empty, announces it.
// KEYS: hash, zset, channel. ARGV: field, value, TTL ms, message.
var presenceSetScript = rueidis.NewLuaScript(`
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
redis.call('zadd', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
local keep = math.ceil(tonumber(ARGV[3]) / 1000) * 2
redis.call('expire', KEYS[1], keep)
redis.call('expire', KEYS[2], keep)
if ARGV[4] ~= '' then
  redis.call('spublish', KEYS[3], ARGV[4])
end
return 1
`)

// presenceRemoveScript removes one presence entry and announces it.
// KEYS: hash, zset, channel. ARGV: field, message.
var presenceRemoveScript = rueidis.NewLuaScript(`
redis.call('hdel', KEYS[1], ARGV[1])
redis.call('zrem', KEYS[2], ARGV[1])
redis.call('spublish', KEYS[3], ARGV[2])
return 1
`)

// presenceGetScript drops expired entries and returns the others as
// field/value pairs. KEYS: hash, zset.
var presenceGetScript = rueidis.NewLuaScript(`
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local old = redis.call('zrangebyscore', KEYS[2], '-inf', now)
for _, f in ipairs(old) do
  redis.call('hdel', KEYS[1], f)
end
redis.call('zremrangebyscore', KEYS[2], '-inf', now)
return redis.call('hgetall', KEYS[1])
`)
