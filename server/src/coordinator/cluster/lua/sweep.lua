-- ARGV: process, process TTL (ms), grace (ms), the instance it knows.
-- Run by every process every few hundred ms: its heartbeat; the sockets of
-- processes silent for the TTL count as dropped (their places are held for
-- the grace period); places whose grace period is over end. Returns
-- {'lost'} when the dataset is not the one this process knew (Redis lost
-- it), else {'ok', ended}.
local pid, ttl, grace, instance = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
if redis.call('GET', P .. 'instance') ~= instance then return {'lost'} end
local now = now_ms()
redis.call('ZADD', P .. 'procs', now, pid)
for _, proc in ipairs(redis.call('ZRANGEBYSCORE', P .. 'procs', '-inf', now - ttl)) do
  local owned = P .. 'owned:' .. proc
  for _, client in ipairs(redis.call('SMEMBERS', owned)) do
    redis.call('HSET', P .. 'client:' .. client, 'away', '1')
    redis.call('ZADD', P .. 'grace', 'NX', now + grace, client)
  end
  redis.call('DEL', owned)
  redis.call('ZREM', P .. 'procs', proc)
end
local ended = redis.call('ZRANGEBYSCORE', P .. 'grace', '-inf', now)
for _, client in ipairs(ended) do
  leave(client)
  redis.call('ZREM', P .. 'grace', client)
end
return {'ok', tostring(#ended)}
