--[[
  Ask for one of a webhook's delivery slots (MNEMO_WEBHOOK_CONCURRENCY, across instances), so one slow
  receiver holds at most that many of the workers. A first attempt must also be among the webhook's oldest
  queued first attempts (lexical order of padded event ids), which keeps first attempts in event order. A
  holder that dies is forgotten when its hold time passes.

  Input:
    KEYS[1] the webhook's in-flight slots (ZSET member -> hold-until ms)
    KEYS[2] queued first attempts of the tenant (ZSET, lexical)
    ARGV[1] now ms   ARGV[2] hold until ms   ARGV[3] slots of the webhook   ARGV[4] slot member (delivery id)
    ARGV[5] lower lexical bound of the webhook's queued attempts ("[<id>|")
    ARGV[6] upper bound ("(<id>}")   ARGV[7] this attempt's queued member ('' = not ordered: a retry)

  Output: 1 the slot is held; 0 busy or not this attempt's turn; 2 not queued yet (its dispatcher has not
  advanced yet: try again shortly)
]]
local rcall = redis.call
local inflightKey, pendingKey = KEYS[1], KEYS[2]
local limit = tonumber(ARGV[3])
rcall('ZREMRANGEBYSCORE', inflightKey, '-inf', ARGV[1])
if rcall('ZSCORE', inflightKey, ARGV[4]) then
  rcall('ZADD', inflightKey, ARGV[2], ARGV[4])
  return 1
end
if ARGV[7] ~= '' then
  if not rcall('ZSCORE', pendingKey, ARGV[7]) then return 2 end
  local turn = false
  for _, member in ipairs(rcall('ZRANGEBYLEX', pendingKey, ARGV[5], ARGV[6], 'LIMIT', 0, limit)) do
    if member == ARGV[7] then turn = true end
  end
  if not turn then return 0 end
end
if rcall('ZCARD', inflightKey) >= limit then return 0 end
rcall('ZADD', inflightKey, ARGV[2], ARGV[4])
return 1
