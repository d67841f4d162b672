-- Prepended to every script: the queue rules of Redis mode, and the keys.
-- Each script runs atomically, so whatever interleaving of coordinators
-- calls them, a machine is held by one client and every place is counted
-- once. Keys are built here rather than passed in: one Redis, no cluster.
--
--   token:T        API key behind token T (expires with it)
--   pool           machine URL -> model;  models: set of model names
--   mstate         machine URL -> free | held:CLIENT | resetting | down
--   free:M         free machines of model M (sorted set, score 0)
--   queue:M        waiting clients of M, scored by arrival (head: negative)
--   client:C       key, token, model, resume, owner, epoch, away, machine,
--                  session, assigned, assigned_at, fatal
--   resume:S       client of resume secret S;  perkey:K  places of key K
--   session:ID     client, machine, token (what the proxy needs)
--   heldsince      machine URL -> when its client got it (ms)
--   recent:M       lengths of M's last finished sessions (ms), newest first
--   grace          clients whose socket is away -> when their place ends
--   procs          coordinator process -> last heartbeat (ms)
--   owned:P        clients whose socket process P serves
--   lease:URL      the process that calls machine URL (expires)
--   instance       set once per Redis dataset: a change means it was lost
-- Channels: ch:queue:M (the queue of M changed), ch:proc:P (to process P).
local P = 'reactor:'

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function tell_proc(pid, message)
  if pid then redis.call('PUBLISH', P .. 'ch:proc:' .. pid, message) end
end

-- Machine calls go to the lease holder; with none, the next holder finds
-- the state and acts on it.
local function machine_op(url, message)
  tell_proc(redis.call('GET', P .. 'lease:' .. url), message)
end

local function queue_changed(model)
  redis.call('PUBLISH', P .. 'ch:queue:' .. model, '1')
end

local function held_by(state)
  if state and string.sub(state, 1, 5) == 'held:' then return string.sub(state, 6) end
  return nil
end

local function hold(url, model, client)
  redis.call('HSET', P .. 'mstate', url, 'held:' .. client)
  redis.call('HSET', P .. 'heldsince', url, now_ms())
  redis.call('ZREM', P .. 'free:' .. model, url)
  redis.call('HSET', P .. 'client:' .. client, 'machine', url)
  machine_op(url, 'start ' .. url .. ' ' .. client)
end

-- Free machines go to the head of the line, in order.
local function dispatch(model)
  local queue = P .. 'queue:' .. model
  local assigned = 0
  while redis.call('ZCARD', queue) > 0 do
    local url = redis.call('ZRANGE', P .. 'free:' .. model, 0, 0)[1]
    if not url then break end
    local head = redis.call('ZPOPMIN', queue)
    hold(url, model, head[1])
    assigned = assigned + 1
  end
  if assigned > 0 then queue_changed(model) end
end

-- The client's place or session ends: idempotent.
local function leave(client)
  local c = P .. 'client:' .. client
  local f = redis.call('HMGET', c, 'key', 'model', 'resume', 'owner', 'machine', 'session')
  local key, model, resume, owner, url, session = f[1], f[2], f[3], f[4], f[5], f[6]
  if not model then return 0 end
  if resume then redis.call('DEL', P .. 'resume:' .. resume) end
  local per_key = P .. 'perkey:' .. key
  if redis.call('DECR', per_key) <= 0 then redis.call('DEL', per_key) end
  redis.call('ZREM', P .. 'grace', client)
  if owner then redis.call('SREM', P .. 'owned:' .. owner, client) end
  if session then redis.call('DEL', P .. 'session:' .. session) end
  if redis.call('ZREM', P .. 'queue:' .. model, client) == 1 then queue_changed(model) end
  if url and held_by(redis.call('HGET', P .. 'mstate', url)) == client then
    -- The wait estimate counts the sessions that ended.
    local since = redis.call('HGET', P .. 'heldsince', url)
    if since then
      redis.call('LPUSH', P .. 'recent:' .. model, now_ms() - tonumber(since))
      redis.call('LTRIM', P .. 'recent:' .. model, 0, 19)
    end
    redis.call('HDEL', P .. 'heldsince', url)
    redis.call('HSET', P .. 'mstate', url, 'resetting')
    machine_op(url, 'reset ' .. url)
  end
  redis.call('DEL', c)
  return 1
end
