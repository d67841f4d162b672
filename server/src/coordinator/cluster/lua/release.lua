-- ARGV: machine URL, process. A process that stops gives its lease back,
-- so that another takes the machine at its next health check.
if redis.call('GET', P .. 'lease:' .. ARGV[1]) == ARGV[2] then
  redis.call('DEL', P .. 'lease:' .. ARGV[1])
  return 1
end
return 0
