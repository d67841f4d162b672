-- ARGV: machine URL. It is reset and may serve: the next in line gets it.
local url = ARGV[1]
local model = redis.call('HGET', P .. 'pool', url)
if not model or held_by(redis.call('HGET', P .. 'mstate', url)) then return 0 end
redis.call('HSET', P .. 'mstate', url, 'free')
redis.call('ZADD', P .. 'free:' .. model, 0, url)
dispatch(model)
return 1
