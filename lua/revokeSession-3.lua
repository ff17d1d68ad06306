--[[
  End a session (POST /auth/logout): a revocation record that lives as long as the session token could,
  checked whenever a session is verified, and an invalidation that drops the cached session on every
  instance in the same step (open event sockets of the session close). Audited and announced.

  Input:
    KEYS[1] revocation record of the session (STRING)   KEYS[2] workspace event stream
    KEYS[3] audit stream of the organisation
    ARGV[1..5] event context
    ARGV[6] milliseconds until the session token expires   ARGV[7] event data JSON ({user_id, session_id})
    ARGV[8] credential invalidation channel   ARGV[9] invalidation message (session:<id>)
    ARGV[10] audit entry JSON   ARGV[11] audit stream MAXLEN

  Output: 1 ended; 0 already ended (nothing is written); -6 when ARGV[6] is not a positive number
]]
--- @include "appendEvent"
--- @include "appendAudit"
local ttl = tonumber(ARGV[6])
if not ttl or ttl < 1 then return -6 end
if redis.call('SET', KEYS[1], '1', 'PX', math.floor(ttl), 'NX') == false then return 0 end
redis.call('PUBLISH', ARGV[8], ARGV[9])
appendEvent(KEYS[2], readEventContext(), 'user.signed_out', ARGV[7])
appendAudit(KEYS[3], ARGV[11], ARGV[10])
return 1
