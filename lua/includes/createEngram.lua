--[[
  Create one engram, or recognise it as a duplicate (used by createEngram and endSession).
  - A live engram (not retired) with the same normalized statement in the same scope is the same engram:
    its write_count is incremented, an engram.updated event is appended, and nothing is added.
  - Otherwise the engram gets the client's id or the next free ENG-<day>-NNN of the workspace's per-day
    counter (ids a client chose are skipped), is stored with its vector, entered in the duplicate index,
    and announced with engram.created (its public fields, see includes/docJson.lua).

  `ek` is a table of key names: docs, vecs, hashes (duplicate index), seq (today's id counter), stream.
  `spec` has: clientId ('' = assign one), body (the document JSON without its id), doc (body decoded by the
  caller before its first write; nil makes the caller refuse with -6), dedupField, vector ('' = none),
  day (YYYY-MM-DD), nowIso.
  Returns: id, outcome ('created' | 'duplicate'), document JSON; or -2 when the client's id is taken.
]]
local SEQ_TTL_SECONDS = 3 * 86400

local function createEngram(ek, ctx, spec)
  if spec.clientId ~= '' and redis.call('HEXISTS', ek.docs, spec.clientId) == 1 then
    return -2
  end
  local existingId = redis.call('HGET', ek.hashes, spec.dedupField)
  if existingId then
    local doc = loadEngram(ek.docs, existingId)
    if doc and doc.status ~= 'retired' then
      doc.write_count = (tonumber(doc.write_count) or 1) + 1
      local json = saveEngram(ek.docs, ek.stream, ctx, doc, spec.nowIso, { 'engram.updated' })
      return existingId, 'duplicate', json
    end
  end
  local id = spec.clientId
  if id == '' then
    repeat
      local n = redis.call('INCR', ek.seq)
      if n == 1 then redis.call('EXPIRE', ek.seq, SEQ_TTL_SECONDS) end
      id = string.format('ENG-%s-%03d', spec.day, n)
    until redis.call('HEXISTS', ek.docs, id) == 0
  end
  local json = '{"id":' .. cjson.encode(id) .. ',' .. string.sub(spec.body, 2)
  redis.call('HSET', ek.docs, id, json)
  if spec.vector ~= '' then redis.call('HSET', ek.vecs, id, spec.vector) end
  redis.call('HSET', ek.hashes, spec.dedupField, id)
  spec.doc.id = id
  appendEvent(ek.stream, ctx, 'engram.created', eventJsonOf(spec.doc, ENGRAM_ARRAYS))
  return id, 'created', json
end
