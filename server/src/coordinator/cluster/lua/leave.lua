-- ARGV: client, epoch ('' for any). A socket of an earlier epoch (its
-- client resumed elsewhere) ends nothing.
if ARGV[2] ~= '' and redis.call('HGET', P .. 'client:' .. ARGV[1], 'epoch') ~= ARGV[2] then return 0 end
return leave(ARGV[1])
