--[[
  Store a new credential record (a layer key, an engram-API key or a SCIM token): the record under the
  secret's SHA-256, the id -> hash pointer, and the id in its owner's list (a workspace's or an
  organisation's), all at once. The plaintext secret is never stored. Every credential starts active and
  unused; the caller names the rest of its fields.

  Input:
    KEYS[1] record by hash (HASH)     {~auth}:<kind>:h:<sha256>
    KEYS[2] id pointer (STRING)       {~auth}:<kind>:id:<credential id>
    KEYS[3] owner's list (ZSET)       {~auth}:<kind>:ws:<workspace> or {~auth}:<kind>:org:<org>
    ARGV[1] secret hash   ARGV[2] credential id   ARGV[3] created_at ms (list order)
    ARGV[4..] field, value pairs of the record (an even count)

  Output: 1 stored; -2 a record with this hash or id exists; -6 the creation ms is not a number or the
          fields are not pairs (nothing is written)
]]
local rcall = redis.call
local createdMs = tonumber(ARGV[3])
if not createdMs or (#ARGV - 3) % 2 ~= 0 then return -6 end
if rcall('EXISTS', KEYS[1]) == 1 or rcall('EXISTS', KEYS[2]) == 1 then return -2 end
rcall('HSET', KEYS[1], 'is_active', '1', 'last_used_at', '', 'revoked_at', '')
if #ARGV > 3 then rcall('HSET', KEYS[1], unpack(ARGV, 4)) end
rcall('SET', KEYS[2], ARGV[1])
rcall('ZADD', KEYS[3], createdMs, ARGV[2])
return 1
