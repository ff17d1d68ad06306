--[[
  Store a new engram-API key (plur_sk_...): the record under the key's SHA-256, the id -> hash pointer,
  and the id in its organisation's list, all at once. The plaintext key is never stored.

  Input:
    KEYS[1] record by hash (HASH)          {~auth}:plur:h:<sha256>
    KEYS[2] id pointer (STRING)            {~auth}:plur:id:<key id>
    KEYS[3] organisation key list (ZSET)   {~auth}:plur:org:<org>
    ARGV[1] key hash   ARGV[2] key id   ARGV[3] org   ARGV[4] user id   ARGV[5] label ('' = none)
    ARGV[6] created_at (ISO 8601)   ARGV[7] created_at ms   ARGV[8] expires_at (ISO 8601, '' = never)
    ARGV[9] key prefix (for display)   ARGV[10] '1' when the key carries the user's personal scope, else '0'

  Output: 1 stored; -2 a record with this hash or id exists; -6 the creation ms is not a number (nothing is
          written)
]]
local rcall = redis.call
local createdMs = tonumber(ARGV[7])
if not createdMs then return -6 end
if rcall('EXISTS', KEYS[1]) == 1 or rcall('EXISTS', KEYS[2]) == 1 then return -2 end
rcall('HSET', KEYS[1],
  'key_id', ARGV[2],
  'org', ARGV[3],
  'user_id', ARGV[4],
  'label', ARGV[5],
  'created_at', ARGV[6],
  'expires_at', ARGV[8],
  'key_prefix', ARGV[9],
  'personal', ARGV[10],
  'is_active', '1',
  'last_used_at', '',
  'revoked_at', '')
rcall('SET', KEYS[2], ARGV[1])
rcall('ZADD', KEYS[3], createdMs, ARGV[2])
return 1
