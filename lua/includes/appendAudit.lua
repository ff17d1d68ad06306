--[[
  Audit entries of the engram API: one capped stream per organisation, written in the same script as the
  change it records, so an acknowledged admin action always has its entry. The entry is JSON built by
  src/memory/audit/audit-log.ts: {id, ts, org, actor, action, target, outcome, channel, request_id, ip,
  user_agent, payload}.
]]
local function appendAudit(auditKey, maxlen, entryJson)
  if entryJson == '' then return end
  redis.call('XADD', auditKey, 'MAXLEN', '~', maxlen, '*', 'e', entryJson)
end
