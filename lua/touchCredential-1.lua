--[[
  Record when a credential (layer key, engram-API key, SCIM token) was last used, without recreating a
  record that no longer exists.
  Callers write at most once a minute per credential and instance, so this is not a write per request.

  Input:
    KEYS[1] record by hash (HASH)
    ARGV[1] last_used_at (ISO 8601)

  Output: 1 written; 0 no such record
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'last_used_at', ARGV[1])
return 1
