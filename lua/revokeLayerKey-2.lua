--[[
  Revoke a layer-API key and announce it, so every instance drops the key from its credential cache in
  the same moment the revocation becomes true in Redis. Revoking twice is not an error.

  Input:
    KEYS[1] id pointer (STRING)   {~auth}:layer:id:<key_id>
    KEYS[2] record by hash (HASH) {~auth}:layer:h:<sha256>
    ARGV[1] key hash the caller read from KEYS[1]
    ARGV[2] revoked_at (ISO 8601)
    ARGV[3] invalidation channel
    ARGV[4] invalidation message

  Output: 1 revoked now; 0 was already revoked; -1 unknown key_id; -5 the pointer changed under us
]]
local rcall = redis.call
local idKey = KEYS[1]
local recordKey = KEYS[2]

local hash = rcall('GET', idKey)
if not hash or rcall('EXISTS', recordKey) == 0 then
  return -1
end
if hash ~= ARGV[1] then
  return -5
end
if rcall('HGET', recordKey, 'is_active') == '0' then
  return 0
end
rcall('HSET', recordKey, 'is_active', '0', 'revoked_at', ARGV[2])
rcall('PUBLISH', ARGV[3], ARGV[4])
return 1
