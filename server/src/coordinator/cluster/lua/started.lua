-- ARGV: machine URL, client, session id, the assigned frame (JSON).
-- Records the session if the client still holds the machine and has none.
local url, client, session, frame = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if held_by(redis.call('HGET', P .. 'mstate', url)) ~= client then return 0 end
local c = P .. 'client:' .. client
local f = redis.call('HMGET', c, 'token', 'owner', 'session')
if not f[1] or f[3] then return 0 end
redis.call('HSET', c, 'session', session, 'assigned', frame, 'assigned_at', tostring(now_ms()))
redis.call('HSET', P .. 'session:' .. session, 'client', client, 'machine', url, 'token', f[1])
tell_proc(f[2], 'assigned ' .. client)
return 1
