--[[
  Erase every episode and fact of one user (right to be forgotten). Working entries are erased by
  clearWorking, one namespace at a time, because their namespace keys must be passed in KEYS: the caller
  clears each of the user's namespaces first, and this script answers the namespaces of working entries
  still listed (written in the meantime) so the caller clears those too. So no id is ever left behind in a
  namespace's working-memory ZSET. On its last round (ARGV[7] = '1') the caller asks for working entries
  still listed to be deleted here as well: erasure wins over an index entry that a remember racing every
  round may leave dangling (readers skip ids without a document).

  A document that cannot be decoded even after repair (includes/docJson.lua) is still erased: its layer is
  read from the indexes that list it (episodes, facts), and its fingerprint and slot entries are found by
  value; one listed in neither is a working entry of unknown namespace and is deleted as a stray.

  Input:
    KEYS[1] docs   KEYS[2] vecs   KEYS[3] episodes   KEYS[4] facts
    KEYS[5] fact fingerprints     KEYS[6] fact slots KEYS[7] stats
    KEYS[8] documents of the user (SET)             KEYS[9] workspace event stream
    ARGV[1..5] event context
    ARGV[6] user_id   ARGV[7] '1' = also delete working entries still listed (last round), else '0'

  Output: { episodes deleted, facts deleted, working entries deleted here (strays, or all on the last round),
            { namespace keys of working entries still listed } }
]]
--- @include "appendEvent"
--- @include "docJson"
local ctx = readEventContext()
local docsKey, vecsKey, episodesKey, factsKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local fingerprintsKey, slotsKey, statsKey, userDocsKey = KEYS[5], KEYS[6], KEYS[7], KEYS[8]

-- Read phase: decide what each listed document is before the first write.
local ids = redis.call('SMEMBERS', userDocsKey)
local plan = {}
local pending, pendingSeen = {}, {}
local unreadableFacts = {}
for _, id in ipairs(ids) do
  local raw = redis.call('HGET', docsKey, id)
  if raw then
    local doc = decodeDoc(raw)
    local layer = doc and doc.layer
    if not doc then
      if redis.call('ZSCORE', episodesKey, id) then layer = 'episodic'
      elseif redis.call('ZSCORE', factsKey, id) then layer = 'semantic'; unreadableFacts[id] = true
      else layer = 'stray' end
    end
    if layer == 'working' and ARGV[7] == '1' then
      layer = 'stray'
    end
    if layer == 'working' then
      local agent = type(doc.agent_id) == 'string' and doc.agent_id or ''
      local nsKey = ARGV[6] .. '|' .. agent
      if not pendingSeen[nsKey] then pendingSeen[nsKey] = true; pending[#pending + 1] = nsKey end
    elseif layer == 'episodic' or layer == 'semantic' or layer == 'stray' then
      plan[#plan + 1] = { id = id, layer = layer, doc = doc or {} }
    end
  else
    plan[#plan + 1] = { id = id, layer = 'gone', doc = {} }
  end
end
local unreadableEntries = {}
if next(unreadableFacts) then
  for _, key in ipairs({ fingerprintsKey, slotsKey }) do
    local flat = redis.call('HGETALL', key)
    for i = 1, #flat, 2 do
      if unreadableFacts[flat[i + 1]] then unreadableEntries[#unreadableEntries + 1] = { key, flat[i] } end
    end
  end
end

-- Write phase.
local counts = { episodic = 0, semantic = 0, stray = 0 }
local deleted = {}
for _, item in ipairs(plan) do
  local id, doc = item.id, item.doc
  redis.call('SREM', userDocsKey, id)
  if item.layer ~= 'gone' then
    redis.call('HDEL', docsKey, id)
    redis.call('HDEL', vecsKey, id)
    if item.layer == 'episodic' then
      redis.call('ZREM', episodesKey, id)
      redis.call('HINCRBY', statsKey, 'episodic', -1)
    elseif item.layer == 'semantic' then
      redis.call('ZREM', factsKey, id)
      if type(doc.fingerprint) == 'string' and redis.call('HGET', fingerprintsKey, doc.fingerprint) == id then
        redis.call('HDEL', fingerprintsKey, doc.fingerprint)
      end
      if type(doc.slots) == 'string' then
        for slot in string.gmatch(doc.slots, '[^\n]+') do
          if redis.call('HGET', slotsKey, slot) == id then redis.call('HDEL', slotsKey, slot) end
        end
      end
      if doc.status == 'current' then redis.call('HINCRBY', statsKey, 'semantic', -1) end
    else
      redis.call('HINCRBY', statsKey, 'working', -1)
    end
    counts[item.layer] = counts[item.layer] + 1
    deleted[#deleted + 1] = id
  end
end
for _, entry in ipairs(unreadableEntries) do redis.call('HDEL', entry[1], entry[2]) end
if #deleted > 0 then
  appendEvent(KEYS[9], ctx, 'memory.forgotten', cjson.encode({ user_id = ARGV[6], ids = deleted,
    count = #deleted }))
end
return { counts.episodic, counts.semantic, counts.stray, pending }
