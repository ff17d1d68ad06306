--[[
  Store a new SCIM bearer token (plur_scim_...): the record under the token's SHA-256, the id -> hash
  pointer, and the id in its organisation's list, all at once. The plaintext token is never stored.

  Input:
    KEYS[1] record by hash (HASH)          {~auth}:scim:h:<sha256>
    KEYS[2] id pointer (STRING)            {~auth}:scim:id:<token id>
    KEYS[3] organisation token list (ZSET) {~auth}:scim:org:<org>
    ARGV[1] token hash   ARGV[2] token id   ARGV[3] org   ARGV[4] label ('' = none)
    ARGV[5] created_at (ISO 8601)   ARGV[6] created_at ms   ARGV[7] token prefix (for display)
    ARGV[8] who created it (actor id)

  Output: 1 stored; -2 a record with this hash or id exists; -6 the creation ms is not a number (nothing is
          written)
]]
local rcall = redis.call
local createdMs = tonumber(ARGV[6])
if not createdMs then return -6 end
if rcall('EXISTS', KEYS[1]) == 1 or rcall('EXISTS', KEYS[2]) == 1 then return -2 end
rcall('HSET', KEYS[1],
  'token_id', ARGV[2],
  'org', ARGV[3],
  'label', ARGV[4],
  'created_at', ARGV[5],
  'token_prefix', ARGV[7],
  'created_by', ARGV[8],
  'is_active', '1',
  'last_used_at', '',
  'revoked_at', '')
rcall('SET', KEYS[2], ARGV[1])
rcall('ZADD', KEYS[3], createdMs, ARGV[2])
return 1
