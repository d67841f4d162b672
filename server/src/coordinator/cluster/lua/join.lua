-- ARGV: token, model, queueing (1/0), per-key limit (0: none), resume
-- secret, process. Returns {auth} | {model} | {limit} | {nocap} |
-- {assigned, client} | {queued, client, position}.
local token, model, queueing, limit, resume, pid = ARGV[1], ARGV[2], ARGV[3] == '1', tonumber(ARGV[4]), ARGV[5], ARGV[6]
local key = redis.call('GET', P .. 'token:' .. token)
if not key then return {'auth'} end
if redis.call('SISMEMBER', P .. 'models', model) == 0 then return {'model'} end
local per_key = P .. 'perkey:' .. key
if limit > 0 and tonumber(redis.call('GET', per_key) or '0') >= limit then return {'limit'} end
local queue = P .. 'queue:' .. model
local free = nil
if redis.call('ZCARD', queue) == 0 then free = redis.call('ZRANGE', P .. 'free:' .. model, 0, 0)[1] end
if not free and not queueing then return {'nocap'} end
local client = tostring(redis.call('INCR', P .. 'next_client'))
redis.call('HSET', P .. 'client:' .. client, 'key', key, 'token', token, 'model', model, 'resume', resume,
  'owner', pid, 'epoch', '0')
redis.call('SET', P .. 'resume:' .. resume, client)
redis.call('INCR', per_key)
redis.call('SADD', P .. 'owned:' .. pid, client)
if free then
  hold(free, model, client)
  return {'assigned', client}
end
redis.call('ZADD', queue, redis.call('INCR', P .. 'seq'), client)
return {'queued', client, tostring(redis.call('ZCARD', queue))}
