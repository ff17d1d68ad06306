--[[
  Revoke a credential (a layer key, an engram-API key or a SCIM token) and announce it, so every instance
  drops it from its credential cache in the same moment the revocation becomes true. Revoking twice is not
  an error. A credential of another owner is as unknown as one that does not exist.

  Input:
    KEYS[1] id pointer (STRING)      {~auth}:<kind>:id:<credential id>
    KEYS[2] record by hash (HASH)    {~auth}:<kind>:h:<sha256>
    ARGV[1] secret hash the caller read from KEYS[1]
    ARGV[2] owner field of the record ('' = any owner, e.g. the admin key revoking a layer key)
    ARGV[3] owner the record must have in that field (the caller's organisation)
    ARGV[4] revoked_at (ISO 8601)   ARGV[5] invalidation channel   ARGV[6] invalidation message

  Output: 1 revoked now; 0 already revoked; -1 unknown credential (or another owner's); -5 the pointer
          changed under us
]]
local rcall = redis.call
local hash = rcall('GET', KEYS[1])
if not hash or rcall('EXISTS', KEYS[2]) == 0 then return -1 end
if hash ~= ARGV[1] then return -5 end
if ARGV[2] ~= '' and rcall('HGET', KEYS[2], ARGV[2]) ~= ARGV[3] then return -1 end
if rcall('HGET', KEYS[2], 'is_active') == '0' then return 0 end
rcall('HSET', KEYS[2], 'is_active', '0', 'revoked_at', ARGV[4])
rcall('PUBLISH', ARGV[5], ARGV[6])
return 1
