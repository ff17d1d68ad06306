--[[
  Change a webhook (PATCH): its configuration, its activation and/or its secret. A rotated secret becomes
  the current one and the old one keeps signing until ARGV[10] (both signatures are sent meanwhile).
  Re-activating clears the reason and the failure streak of an earlier disable. Appends the event
  (webhook.updated, webhook.disabled, webhook.enabled or webhook.secret_rotated, chosen by the caller) and
  the audit entry.

  Input:
    KEYS[1] the webhook (HASH)   KEYS[2] tenant event stream   KEYS[3] audit stream of the tenant
    ARGV[1..5] event context
    ARGV[6] configuration JSON ('' = unchanged)
    ARGV[7] active: '1', '0' or '' (unchanged)   ARGV[8] reason stored with active '0'
    ARGV[9] new encrypted secret ('' = no rotation)   ARGV[10] ms until which the previous secret signs too
    ARGV[11] event type   ARGV[12] event data JSON
    ARGV[13] audit entry JSON ('' = none)   ARGV[14] audit stream MAXLEN

  Output: 1; -1 when the webhook does not exist
]]
--- @include "appendEvent"
--- @include "appendAudit"
local rcall = redis.call
local webhookKey, streamKey, auditKey = KEYS[1], KEYS[2], KEYS[3]
if rcall('EXISTS', webhookKey) == 0 then return -1 end
if ARGV[6] ~= '' then rcall('HSET', webhookKey, 'config', ARGV[6]) end
if ARGV[7] == '1' then
  rcall('HSET', webhookKey, 'active', '1')
  rcall('HDEL', webhookKey, 'disabled_reason', 'failing_since')
elseif ARGV[7] == '0' then
  rcall('HSET', webhookKey, 'active', '0', 'disabled_reason', ARGV[8])
end
if ARGV[9] ~= '' then
  local previous = rcall('HGET', webhookKey, 'secret')
  rcall('HSET', webhookKey, 'secret', ARGV[9], 'prev_secret', previous or '', 'prev_until', ARGV[10])
end
appendEvent(streamKey, readEventContext(), ARGV[11], ARGV[12])
appendAudit(auditKey, ARGV[14], ARGV[13])
return 1
