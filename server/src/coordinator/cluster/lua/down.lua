-- ARGV: machine URL, the error frame body (JSON) for its client. The
-- machine failed: its client loses the session and is told (now, or on
-- resume); the machine is not handed out until ready.
local url, fatal = ARGV[1], ARGV[2]
local model = redis.call('HGET', P .. 'pool', url)
if not model then return 0 end
local client = held_by(redis.call('HGET', P .. 'mstate', url))
redis.call('HSET', P .. 'mstate', url, 'down')
redis.call('HDEL', P .. 'heldsince', url)
redis.call('ZREM', P .. 'free:' .. model, url)
if not client then return 0 end
local c = P .. 'client:' .. client
local session = redis.call('HGET', c, 'session')
if session then redis.call('DEL', P .. 'session:' .. session) end
redis.call('HDEL', c, 'machine', 'session', 'assigned', 'assigned_at')
if redis.call('EXISTS', c) == 1 then
  redis.call('HSET', c, 'fatal', fatal)
  tell_proc(redis.call('HGET', c, 'owner'), 'fatal ' .. client)
end
return 1
