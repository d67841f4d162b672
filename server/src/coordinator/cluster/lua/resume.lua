-- ARGV: resume secret, process. This process's socket takes the client
-- over. Returns {} when the place is gone, else {client, epoch, model,
-- rank (-1: not waiting), assigned frame or '', ms since assigned or -1,
-- fatal error body or ''}.
local secret, pid = ARGV[1], ARGV[2]
local client = redis.call('GET', P .. 'resume:' .. secret)
if not client then return {} end
local c = P .. 'client:' .. client
local f = redis.call('HMGET', c, 'model', 'owner', 'assigned', 'assigned_at', 'fatal')
if not f[1] then return {} end
local epoch = redis.call('HINCRBY', c, 'epoch', 1)
if f[2] then redis.call('SREM', P .. 'owned:' .. f[2], client) end
redis.call('HSET', c, 'owner', pid)
redis.call('HDEL', c, 'away', 'fatal')
redis.call('ZREM', P .. 'grace', client)
redis.call('SADD', P .. 'owned:' .. pid, client)
if f[2] and f[2] ~= pid then tell_proc(f[2], 'superseded ' .. client .. ' ' .. epoch) end
local rank = redis.call('ZRANK', P .. 'queue:' .. f[1], client)
local elapsed = -1
if f[4] then elapsed = now_ms() - tonumber(f[4]) end
return {client, tostring(epoch), f[1], tostring(rank or -1), f[3] or '', tostring(elapsed), f[5] or ''}
