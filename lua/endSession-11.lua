--[[
  End a session (POST /api/v1/sessions/{id}/end) in one step: each learning becomes a candidate engram in
  the session's scope (a statement already live there is counted as a re-learn instead, see
  includes/createEngram.lua), the summary is captured as an episode (includes/addEpisode.lua), and the
  session is closed with what it produced, and audited (session.end).

  Input:
    KEYS[1] docs   KEYS[2] vecs   KEYS[3] engram duplicate index   KEYS[4] today's engram id counter
    KEYS[5] workspace event stream   KEYS[6] sessions (HASH id -> JSON)
    KEYS[7] episodes   KEYS[8] stats   KEYS[9] agents   KEYS[10] documents of the user (unused without one)
    KEYS[11] audit stream of the organisation
    ARGV[1..5] event context; ARGV[4] is the time of the write
    ARGV[6] session id   ARGV[7] summary   ARGV[8] day (YYYY-MM-DD)
    ARGV[9] episode id   ARGV[10] episode document JSON   ARGV[11] episode vector ('' = none)
    ARGV[12] created ms   ARGV[13] user_id ('' = none)
    ARGV[14] number of learnings n, then 3 arguments per learning from ARGV[15]:
             document JSON without its id, duplicate index field, vector ('' = none);
             then the audit entry JSON ('' = none) and the audit stream MAXLEN

  Output: { episode id, { candidate ids created }, { ids of engrams the learnings repeated } };
          -1 no such session; -3 the session has already ended;
          -6 a learning's document is not JSON (nothing is written)
]]
--- @include "appendEvent"
--- @include "engramDoc"
--- @include "createEngram"
--- @include "addEpisode"
--- @include "appendAudit"
local ctx = readEventContext()
local nowIso = ARGV[4]
local raw = redis.call('HGET', KEYS[6], ARGV[6])
if not raw then return -1 end
-- Read phase: the session and every learning decoded before the first write.
local session = decodeDoc(raw)
if not session then return -1 end
if session.status ~= 'active' then return -3 end
local n = tonumber(ARGV[14])
if not n or not tonumber(ARGV[12]) then return -6 end
local learnings = {}
for i = 0, n - 1 do
  local base = 15 + i * 3
  local doc = decodeDoc(ARGV[base])
  if not doc then return -6 end
  learnings[#learnings + 1] = { clientId = '', body = ARGV[base], doc = doc, dedupField = ARGV[base + 1],
    vector = ARGV[base + 2], day = ARGV[8], nowIso = nowIso }
end

local ek = { docs = KEYS[1], vecs = KEYS[2], hashes = KEYS[3], seq = KEYS[4], stream = KEYS[5] }
local created, repeated = {}, {}
for _, learning in ipairs(learnings) do
  local id, outcome = createEngram(ek, ctx, learning)
  if outcome == 'created' then created[#created + 1] = id else repeated[#repeated + 1] = id end
end

addEpisode({ docs = KEYS[1], vecs = KEYS[2], episodes = KEYS[7], stats = KEYS[8], agents = KEYS[9],
  userDocs = KEYS[10], stream = KEYS[5] }, ctx, { id = ARGV[9], json = ARGV[10], vector = ARGV[11],
  ts = tonumber(ARGV[12]), agent = '', user = ARGV[13], nowIso = nowIso })

session.status = 'ended'
session.ended_at = nowIso
session.summary = ARGV[7]
session.candidate_ids = created
session.repeated_ids = repeated
session.episode_id = ARGV[9]
local json = encodeDoc(session, { tags = true, injected_ids = true, candidate_ids = true, repeated_ids = true })
redis.call('HSET', KEYS[6], ARGV[6], json)
appendEvent(KEYS[5], ctx, 'session.ended', json)
local auditAt = 15 + n * 3
appendAudit(KEYS[11], ARGV[auditAt + 1], ARGV[auditAt] or '')
return { ARGV[9], created, repeated }
