--[[
  Capture one episode (POST /api/v1/episodes). The engram API's episodes are the layer API's episodes: the
  same document, the same indexes and counters (see includes/addEpisode.lua).

  Input:
    KEYS[1] docs   KEYS[2] vecs   KEYS[3] episodes (ZSET created_ms -> id)   KEYS[4] stats
    KEYS[5] agents (ZSET agent_id -> last write ms)   KEYS[6] documents of the user (unused without one)
    KEYS[7] workspace event stream
    ARGV[1..5] event context; ARGV[4] is the time of the write
    ARGV[6] episode id   ARGV[7] episode document JSON   ARGV[8] vector ('' = none)
    ARGV[9] created ms   ARGV[10] agent_id ('' = none)   ARGV[11] user_id ('' = none)

  Output: 1; -6 when the created ms is not a number (nothing is written)
]]
--- @include "appendEvent"
--- @include "addEpisode"
local ctx = readEventContext()
local createdMs = tonumber(ARGV[9])
if not createdMs then return -6 end
addEpisode({ docs = KEYS[1], vecs = KEYS[2], episodes = KEYS[3], stats = KEYS[4], agents = KEYS[5],
  userDocs = KEYS[6], stream = KEYS[7] }, ctx, { id = ARGV[6], json = ARGV[7], vector = ARGV[8],
  ts = createdMs, agent = ARGV[10], user = ARGV[11], nowIso = ARGV[4] })
return 1
