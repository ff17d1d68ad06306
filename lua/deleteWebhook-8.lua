--[[
  Delete a webhook with its deliveries log, its in-flight slots and its queued first attempts: a delivery
  job still queued finds the webhook gone and ends without sending. Appends webhook.deleted and the audit
  entry.

  Input:
    KEYS[1] webhook ids of the tenant (ZSET)   KEYS[2] the webhook (HASH)
    KEYS[3] its deliveries (HASH)   KEYS[4] their order (ZSET)   KEYS[5] its in-flight slots (ZSET)
    KEYS[6] queued first attempts of the tenant (ZSET, lexical "<webhook id>|...")
    KEYS[7] tenant event stream   KEYS[8] audit stream of the tenant
    ARGV[1..5] event context
    ARGV[6] webhook id   ARGV[7] event data JSON   ARGV[8] audit entry JSON ('' = none)   ARGV[9] audit MAXLEN

  Output: 1; -1 when the webhook does not exist
]]
--- @include "appendEvent"
--- @include "appendAudit"
local rcall = redis.call
if rcall('EXISTS', KEYS[2]) == 0 then return -1 end
rcall('ZREM', KEYS[1], ARGV[6])
rcall('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
-- '|' sorts just before '}': every member of this webhook lies in ["<id>|", "<id>}").
rcall('ZREMRANGEBYLEX', KEYS[6], '[' .. ARGV[6] .. '|', '(' .. ARGV[6] .. '}')
appendEvent(KEYS[7], readEventContext(), 'webhook.deleted', ARGV[7])
appendAudit(KEYS[8], ARGV[9], ARGV[8])
return 1
