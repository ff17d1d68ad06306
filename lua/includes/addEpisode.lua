--[[
  Store one episode exactly as the layer API's remember does (docs HASH, vector, the episodes ZSET by time,
  the episodic counter, the user's document set for erasure, the agents ZSET), announced with
  memory.episode.added (which the search index applies) and episode.captured (the engram API's event).

  `ek` is a table of key names: docs, vecs, episodes, stats, agents, userDocs, stream.
  `ep` has: id, json, vector ('' = none), ts (ms), agent ('' = none), user ('' = none), nowIso.
]]
local function addEpisode(ek, ctx, ep)
  redis.call('HSET', ek.docs, ep.id, ep.json)
  if ep.vector ~= '' then redis.call('HSET', ek.vecs, ep.id, ep.vector) end
  redis.call('ZADD', ek.episodes, ep.ts, ep.id)
  redis.call('HINCRBY', ek.stats, 'episodic', 1)
  redis.call('HSET', ek.stats, 'last_write', ep.nowIso)
  if ep.user ~= '' then redis.call('SADD', ek.userDocs, ep.id) end
  if ep.agent ~= '' then redis.call('ZADD', ek.agents, ep.ts, ep.agent) end
  appendEvent(ek.stream, ctx, 'memory.episode.added', ep.json)
  appendEvent(ek.stream, ctx, 'episode.captured', ep.json)
end
