-- ARGV: client, epoch, process, grace (ms). The socket of this epoch
-- dropped: the place is held until the grace period ends (see sweep).
local client, epoch, pid, grace = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local c = P .. 'client:' .. client
local f = redis.call('HMGET', c, 'epoch', 'owner')
if f[1] ~= epoch or f[2] ~= pid then return 0 end
redis.call('HSET', c, 'away', '1')
redis.call('SREM', P .. 'owned:' .. pid, client)
redis.call('ZADD', P .. 'grace', now_ms() + grace, client)
return 1
