--[[
  Record a started session (POST /api/v1/sessions), announce it and audit it (session.start).

  Input:
    KEYS[1] sessions (HASH id -> JSON)   KEYS[2] workspace event stream   KEYS[3] audit stream of the organisation
    ARGV[1..5] event context
    ARGV[6] session id   ARGV[7] session JSON
    ARGV[8] audit entry JSON ('' = none)   ARGV[9] audit stream MAXLEN

  Output: 1; -2 when a session with this id exists
]]
--- @include "appendEvent"
--- @include "appendAudit"
if redis.call('HSETNX', KEYS[1], ARGV[6], ARGV[7]) == 0 then return -2 end
appendEvent(KEYS[2], readEventContext(), 'session.started', ARGV[7])
appendAudit(KEYS[3], ARGV[9], ARGV[8])
return 1
