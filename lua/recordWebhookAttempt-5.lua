--[[
  Record one attempt of a webhook delivery: the delivery's entry in the log (replaced whole, the log trimmed
  to its newest ARGV[9] entries) and the webhook's health. A success ends the failure streak; a failure
  starts one (failing_since keeps the first failure's time). With a disable reason (a 410 Gone answer, or a
  streak as long as MNEMO_WEBHOOK_DISABLE_AFTER_MS, decided by the caller) an active webhook is disabled,
  announced (webhook.disabled) and audited once, however many attempts race to do it.

  Input:
    KEYS[1] the webhook (HASH)   KEYS[2] its deliveries (HASH)   KEYS[3] their order (ZSET)
    KEYS[4] tenant event stream   KEYS[5] audit stream of the tenant
    ARGV[1..5] event context
    ARGV[6] delivery id   ARGV[7] delivery JSON   ARGV[8] delivery created ms   ARGV[9] log size
    ARGV[10] outcome: 'ok', 'fail', or '' (a test delivery: health unchanged)   ARGV[11] now ms
    ARGV[12] disable reason ('' = none)   ARGV[13] webhook.disabled event data JSON
    ARGV[14] audit entry JSON ('' = none)   ARGV[15] audit stream MAXLEN

  Output: 1 recorded; 2 recorded and the webhook disabled by it; -1 when the webhook no longer exists
]]
--- @include "appendEvent"
--- @include "appendAudit"
--- @include "recordDelivery"
local rcall = redis.call
local webhookKey, logKey, orderKey = KEYS[1], KEYS[2], KEYS[3]
if rcall('EXISTS', webhookKey) == 0 then return -1 end
recordDelivery(logKey, orderKey, ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9]))
if ARGV[10] == 'ok' then
  rcall('HDEL', webhookKey, 'failing_since')
  rcall('HSET', webhookKey, 'last_success_ms', ARGV[11])
elseif ARGV[10] == 'fail' then
  rcall('HSETNX', webhookKey, 'failing_since', ARGV[11])
  rcall('HSET', webhookKey, 'last_failure_ms', ARGV[11])
end
if ARGV[12] ~= '' and rcall('HGET', webhookKey, 'active') == '1' then
  rcall('HSET', webhookKey, 'active', '0', 'disabled_reason', ARGV[12])
  appendEvent(KEYS[4], readEventContext(), 'webhook.disabled', ARGV[13])
  appendAudit(KEYS[5], ARGV[15], ARGV[14])
  return 2
end
return 1
