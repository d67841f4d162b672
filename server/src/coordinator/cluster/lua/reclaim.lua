-- ARGV: machine URL. A free machine found holding a session nobody
-- started: 1 when it was free and is now resetting.
local url = ARGV[1]
if redis.call('HGET', P .. 'mstate', url) ~= 'free' then return 0 end
redis.call('HSET', P .. 'mstate', url, 'resetting')
redis.call('ZREM', P .. 'free:' .. redis.call('HGET', P .. 'pool', url), url)
return 1
