--[[
  Record a started session (POST /api/v1/sessions) and announce it.

  Input:
    KEYS[1] sessions (HASH id -> JSON)   KEYS[2] workspace event stream
    ARGV[1..5] event context
    ARGV[6] session id   ARGV[7] session JSON

  Output: 1; -2 when a session with this id exists
]]
--- @include "appendEvent"
if redis.call('HSETNX', KEYS[1], ARGV[6], ARGV[7]) == 0 then return -2 end
appendEvent(KEYS[2], readEventContext(), 'session.started', ARGV[7])
return 1
