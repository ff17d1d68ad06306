--[[
  Store a new layer-API key record: the record under the key's SHA-256, the id -> hash pointer, and the
  id in its workspace's list, all at once. The plaintext key is never stored.

  Input:
    KEYS[1] record by hash (HASH)            {~auth}:layer:h:<sha256>
    KEYS[2] id pointer (STRING)              {~auth}:layer:id:<key_id>
    KEYS[3] workspace key list (ZSET)        {~auth}:layer:ws:<workspace>
    ARGV[1] key hash (sha256 hex)
    ARGV[2] key_id
    ARGV[3] workspace_id
    ARGV[4] label ('' = none)
    ARGV[5] env (live|test)
    ARGV[6] rate_limit_rpm ('' = server default)
    ARGV[7] created_at (ISO 8601)
    ARGV[8] created_at in ms (list order)
    ARGV[9] key_prefix (first characters of the key, for display)

  Output: 1 stored; -2 a record with this hash or id already exists (conflict); -6 the creation ms is not a
          number (nothing is written)
]]
local rcall = redis.call
local recordKey = KEYS[1]
local idKey = KEYS[2]
local listKey = KEYS[3]

local createdMs = tonumber(ARGV[8])
if not createdMs then return -6 end
if rcall('EXISTS', recordKey) == 1 or rcall('EXISTS', idKey) == 1 then
  return -2
end

rcall('HSET', recordKey,
  'key_id', ARGV[2],
  'workspace_id', ARGV[3],
  'label', ARGV[4],
  'env', ARGV[5],
  'rate_limit_rpm', ARGV[6],
  'created_at', ARGV[7],
  'key_prefix', ARGV[9],
  'is_active', '1',
  'last_used_at', '')
rcall('SET', idKey, ARGV[1])
rcall('ZADD', listKey, createdMs, ARGV[2])
return 1
