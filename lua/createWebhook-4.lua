--[[
  Register a webhook (POST /api/v1/admin/webhooks, POST /v1/webhooks). The webhook's hash holds its
  configuration (JSON, without secrets), its signing secret (encrypted by src/memory/webhooks/secret-box.ts)
  and its health; the tenant's index lists it. Appends webhook.created (the public record, no secret) and,
  on the engram face, the audit entry.

  Input:
    KEYS[1] webhook ids of the tenant (ZSET id -> created ms)   KEYS[2] the webhook (HASH)
    KEYS[3] tenant event stream                                 KEYS[4] audit stream of the tenant
    ARGV[1..5] event context
    ARGV[6] webhook id   ARGV[7] created ms   ARGV[8] configuration JSON   ARGV[9] encrypted secret
    ARGV[10] most webhooks a tenant may have
    ARGV[11] event data JSON   ARGV[12] audit entry JSON ('' = none)   ARGV[13] audit stream MAXLEN

  Output: 1; -2 when the id exists; -4 when the tenant already has ARGV[10] webhooks
]]
--- @include "appendEvent"
--- @include "appendAudit"
local rcall = redis.call
local idsKey, webhookKey, streamKey, auditKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if rcall('EXISTS', webhookKey) == 1 then return -2 end
if rcall('ZCARD', idsKey) >= tonumber(ARGV[10]) then return -4 end
rcall('ZADD', idsKey, ARGV[7], ARGV[6])
rcall('HSET', webhookKey, 'config', ARGV[8], 'secret', ARGV[9], 'active', '1')
appendEvent(streamKey, readEventContext(), 'webhook.created', ARGV[11])
appendAudit(auditKey, ARGV[13], ARGV[12])
return 1
