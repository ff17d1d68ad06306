--[[
  Log a redelivery asked for by an administrator (POST .../deliveries/{id}/redeliver): the new delivery's
  entry (state queued) in the webhook's log, trimmed to its newest ARGV[9] entries, webhook.redelivered and
  the audit entry. The caller enqueues the delivery job after this succeeds.

  Input:
    KEYS[1] the webhook (HASH)   KEYS[2] its deliveries (HASH)   KEYS[3] their order (ZSET)
    KEYS[4] tenant event stream   KEYS[5] audit stream of the tenant
    ARGV[1..5] event context
    ARGV[6] new delivery id   ARGV[7] delivery JSON   ARGV[8] created ms   ARGV[9] log size
    ARGV[10] event data JSON   ARGV[11] audit entry JSON ('' = none)   ARGV[12] audit stream MAXLEN

  Output: 1; -1 when the webhook does not exist
]]
--- @include "appendEvent"
--- @include "appendAudit"
--- @include "recordDelivery"
local rcall = redis.call
local webhookKey, logKey, orderKey = KEYS[1], KEYS[2], KEYS[3]
if rcall('EXISTS', webhookKey) == 0 then return -1 end
recordDelivery(logKey, orderKey, ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9]))
appendEvent(KEYS[4], readEventContext(), 'webhook.redelivered', ARGV[10])
appendAudit(KEYS[5], ARGV[12], ARGV[11])
return 1
