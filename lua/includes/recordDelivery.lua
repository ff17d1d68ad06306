--[[
  A webhook's delivery log: each delivery's JSON in a HASH by delivery id, its order in a ZSET by time, and
  only the newest `keep` of them kept (older ones leave both at once). Shared by the scripts that record an
  attempt and a redelivery, so the log's cap is enforced the same way by both.
]]
local function recordDelivery(logKey, orderKey, deliveryId, deliveryJson, atMs, keep)
  redis.call('HSET', logKey, deliveryId, deliveryJson)
  redis.call('ZADD', orderKey, atMs, deliveryId)
  local count = redis.call('ZCARD', orderKey)
  if count > keep then
    local old = redis.call('ZRANGE', orderKey, 0, count - keep - 1)
    redis.call('HDEL', logKey, unpack(old))
    redis.call('ZREMRANGEBYRANK', orderKey, 0, count - keep - 1)
  end
end
