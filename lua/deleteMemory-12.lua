--[[
  Delete one memory of the layer API (working entry, episode or fact) with its vector and every index
  entry (DELETE /v1/memory/{id}). Engrams and other document kinds are not touched.

  Input:
    KEYS[1]  docs             KEYS[2] vecs
    KEYS[3]  working entries of the memory's namespace   KEYS[4] working expiry of that namespace
    KEYS[5]  workspace expiry index
    KEYS[6]  episodes         KEYS[7] facts
    KEYS[8]  fact fingerprints                           KEYS[9] fact slots
    KEYS[10] stats            KEYS[11] documents of the memory's user (unused without a user)
    KEYS[12] workspace event stream
    ARGV[1..5] event context
    ARGV[6] memory id   ARGV[7] namespace key of the memory

  Output: the deleted document's JSON; -1 when there is no such memory (or what is stored under the id is not
          a JSON document: stored JSON that cjson refuses is repaired for reading, see includes/docJson.lua)
]]
--- @include "appendEvent"
--- @include "docJson"
local ctx = readEventContext()
local id = ARGV[6]
local raw = redis.call('HGET', KEYS[1], id)
if not raw then return -1 end
local doc = decodeDoc(raw)
if not doc then return -1 end
local layer = doc.layer
if layer ~= 'working' and layer ~= 'episodic' and layer ~= 'semantic' then return -1 end
redis.call('HDEL', KEYS[1], id)
redis.call('HDEL', KEYS[2], id)
redis.call('SREM', KEYS[11], id)
if layer == 'working' then
  redis.call('ZREM', KEYS[3], id)
  if redis.call('ZREM', KEYS[4], id) == 1 then
    local first = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
    if first[2] then redis.call('ZADD', KEYS[5], first[2], ARGV[7]) else redis.call('ZREM', KEYS[5], ARGV[7]) end
  end
  redis.call('HINCRBY', KEYS[10], 'working', -1)
elseif layer == 'episodic' then
  redis.call('ZREM', KEYS[6], id)
  redis.call('HINCRBY', KEYS[10], 'episodic', -1)
else
  redis.call('ZREM', KEYS[7], id)
  if doc.fingerprint and redis.call('HGET', KEYS[8], doc.fingerprint) == id then
    redis.call('HDEL', KEYS[8], doc.fingerprint)
  end
  if type(doc.slots) == 'string' then
    for slot in string.gmatch(doc.slots, '[^\n]+') do
      if redis.call('HGET', KEYS[9], slot) == id then redis.call('HDEL', KEYS[9], slot) end
    end
  end
  if doc.status == 'current' then redis.call('HINCRBY', KEYS[10], 'semantic', -1) end
end
appendEvent(KEYS[12], ctx, 'memory.deleted', cjson.encode({ id = id, layer = layer,
  user_id = doc.user_id, agent_id = doc.agent_id }))
return raw
