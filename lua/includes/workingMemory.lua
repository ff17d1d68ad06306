--[[
  Working-memory helpers shared by remember, clearWorking and expireWorking.
  A namespace's entries live in a ZSET scored by importance (ZPOPMIN = lowest importance; ties pop the
  smallest member, and ids are time-ordered ULIDs, so the oldest goes first) and, when they have a TTL, in
  a ZSET scored by expiry time. The workspace-level ZSET wmexp-ns holds each namespace's earliest expiry so
  the sweeper finds due namespaces without scanning. Entry documents live in the workspace docs HASH.
  Every helper tolerates ids whose document is already gone.

  `wm` is a table of key names: docs, vecs, entries, expiry, expiryIndex, stats, userDocs, stream.
]]
local function dropWorkingEntry(wm, id)
  redis.call('ZREM', wm.entries, id)
  redis.call('ZREM', wm.expiry, id)
  redis.call('SREM', wm.userDocs, id)
  redis.call('HDEL', wm.vecs, id)
  if redis.call('HDEL', wm.docs, id) == 1 then
    redis.call('HINCRBY', wm.stats, 'working', -1)
    return true
  end
  return false
end

-- Keeps the namespace's earliest expiry in the workspace index (or removes the namespace from it).
local function refreshExpiryIndex(wm, nsKey)
  local first = redis.call('ZRANGE', wm.expiry, 0, 0, 'WITHSCORES')
  if first[2] then
    redis.call('ZADD', wm.expiryIndex, first[2], nsKey)
  else
    redis.call('ZREM', wm.expiryIndex, nsKey)
  end
end

-- Removes entries whose expiry is at or before nowMs; emits working.expired; returns the ids.
local function purgeExpired(wm, ctx, nowMs, nsKey, userJson, agentJson)
  local due = redis.call('ZRANGEBYSCORE', wm.expiry, '-inf', nowMs)
  local removed = {}
  for _, id in ipairs(due) do
    if dropWorkingEntry(wm, id) then
      removed[#removed + 1] = id
    end
  end
  if #removed > 0 then
    for _, id in ipairs(removed) do
      appendEvent(wm.stream, ctx, 'working.expired',
        '{"id":' .. cjson.encode(id) .. ',"layer":"working","user_id":' .. userJson .. ',"agent_id":' .. agentJson .. '}')
    end
  end
  if #due > 0 then refreshExpiryIndex(wm, nsKey) end
  return removed
end
