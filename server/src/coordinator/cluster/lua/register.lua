-- ARGV: a fresh instance id, then URL, model pairs. Adds this process's
-- machines to the pool; a machine new to the pool is resetting until its
-- first health check. Returns the dataset's instance id.
redis.call('SET', P .. 'instance', ARGV[1], 'NX')
for i = 2, #ARGV, 2 do
  local url, model = ARGV[i], ARGV[i + 1]
  redis.call('HSET', P .. 'pool', url, model)
  redis.call('SADD', P .. 'models', model)
  redis.call('HSETNX', P .. 'mstate', url, 'resetting')
end
return redis.call('GET', P .. 'instance')
