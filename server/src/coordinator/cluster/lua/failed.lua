-- ARGV: machine URL, client. Starting the session failed: the machine goes
-- down and the client back to the head of the line.
local url, client = ARGV[1], ARGV[2]
if held_by(redis.call('HGET', P .. 'mstate', url)) ~= client then return 0 end
local model = redis.call('HGET', P .. 'pool', url)
redis.call('HSET', P .. 'mstate', url, 'down')
redis.call('HDEL', P .. 'heldsince', url)
redis.call('HDEL', P .. 'client:' .. client, 'machine')
redis.call('ZADD', P .. 'queue:' .. model, redis.call('DECR', P .. 'headseq'), client)
dispatch(model)
queue_changed(model)
return 1
