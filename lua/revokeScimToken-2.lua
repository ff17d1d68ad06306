--[[
  Revoke a SCIM bearer token of one organisation and announce it, so every instance drops it from its
  credential cache in the same moment the revocation becomes true. Revoking twice is not an error; a token
  of another organisation is as unknown as a token that does not exist.

  Input:
    KEYS[1] id pointer (STRING)      {~auth}:scim:id:<token id>
    KEYS[2] record by hash (HASH)    {~auth}:scim:h:<sha256>
    ARGV[1] token hash the caller read from KEYS[1]   ARGV[2] organisation of the caller
    ARGV[3] revoked_at (ISO 8601)   ARGV[4] invalidation channel   ARGV[5] invalidation message (scim:<hash>)

  Output: 1 revoked now; 0 already revoked; -1 unknown token (or another organisation's); -5 the pointer
          changed under us
]]
local rcall = redis.call
local hash = rcall('GET', KEYS[1])
if not hash or rcall('EXISTS', KEYS[2]) == 0 then return -1 end
if hash ~= ARGV[1] then return -5 end
if rcall('HGET', KEYS[2], 'org') ~= ARGV[2] then return -1 end
if rcall('HGET', KEYS[2], 'is_active') == '0' then return 0 end
rcall('HSET', KEYS[2], 'is_active', '0', 'revoked_at', ARGV[3])
rcall('PUBLISH', ARGV[4], ARGV[5])
return 1
