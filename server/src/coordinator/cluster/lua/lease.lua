-- ARGV: machine URL, process, TTL (ms). Takes or renews the lease of the
-- machine's calls. Returns 2 when newly taken, 1 when renewed, 0 when
-- another process holds it.
local key = P .. 'lease:' .. ARGV[1]
local holder = redis.call('GET', key)
if holder == ARGV[2] then
  redis.call('PEXPIRE', key, ARGV[3])
  return 1
end
if holder then return 0 end
redis.call('SET', key, ARGV[2], 'PX', ARGV[3])
return 2
