--[[
  Give back a webhook delivery slot after an attempt, and take the attempt off the ordered queue of first
  attempts (after its first attempt a delivery is no longer ordered: retries go out when they are due).

  Input:
    KEYS[1] the webhook's in-flight slots (ZSET)   KEYS[2] queued first attempts of the tenant (ZSET)
    ARGV[1] slot member (delivery id)   ARGV[2] queued member ('' = none)

  Output: 1
]]
redis.call('ZREM', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then redis.call('ZREM', KEYS[2], ARGV[2]) end
return 1
