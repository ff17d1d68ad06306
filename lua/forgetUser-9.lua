--[[
  Erase every episode and fact of one user (right to be forgotten). The caller first clears each of the
  user's working-memory namespaces with clearWorking; working entries still listed here (written in the
  meantime) are deleted too, leaving at most a dangling id in a namespace ZSET, which every reader skips.

  Input:
    KEYS[1] docs   KEYS[2] vecs   KEYS[3] episodes   KEYS[4] facts
    KEYS[5] fact fingerprints     KEYS[6] fact slots KEYS[7] stats
    KEYS[8] documents of the user (SET)             KEYS[9] workspace event stream
    ARGV[1..5] event context
    ARGV[6] user_id

  Output: { episodes deleted, facts deleted, working entries deleted }
]]
--- @include "appendEvent"
local ctx = readEventContext()
local ids = redis.call('SMEMBERS', KEYS[8])
local counts = { episodic = 0, semantic = 0, working = 0 }
local deleted = {}
for _, id in ipairs(ids) do
  local raw = redis.call('HGET', KEYS[1], id)
  if raw then
    local doc = cjson.decode(raw)
    redis.call('HDEL', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
    if doc.layer == 'episodic' then
      redis.call('ZREM', KEYS[3], id)
      redis.call('HINCRBY', KEYS[7], 'episodic', -1)
    elseif doc.layer == 'semantic' then
      redis.call('ZREM', KEYS[4], id)
      if doc.fingerprint and redis.call('HGET', KEYS[5], doc.fingerprint) == id then
        redis.call('HDEL', KEYS[5], doc.fingerprint)
      end
      if type(doc.slots) == 'string' then
        for slot in string.gmatch(doc.slots, '[^\n]+') do
          if redis.call('HGET', KEYS[6], slot) == id then redis.call('HDEL', KEYS[6], slot) end
        end
      end
      if doc.status == 'current' then redis.call('HINCRBY', KEYS[7], 'semantic', -1) end
    elseif doc.layer == 'working' then
      redis.call('HINCRBY', KEYS[7], 'working', -1)
    end
    if counts[doc.layer] then counts[doc.layer] = counts[doc.layer] + 1 end
    deleted[#deleted + 1] = id
  end
end
redis.call('DEL', KEYS[8])
if #deleted > 0 then
  appendEvent(KEYS[9], ctx, 'memory.forgotten', cjson.encode({ user_id = ARGV[6], ids = deleted,
    count = #deleted }))
end
return { counts.episodic, counts.semantic, counts.working }
