--[[
  Take or renew the lease on dispatching one tenant's event stream to its webhooks: one instance at a time
  reads the stream and enqueues deliveries. A lease not renewed within its TTL lapses, and another
  instance takes over from the stored cursor.

  Input:
    KEYS[1] the tenant's dispatch lease (STRING)
    ARGV[1] this instance's owner id   ARGV[2] TTL ms   ARGV[3] 'take' or 'release'

  Output: 1 when this owner holds the lease after the call (take) or released it (release); 0 otherwise
]]
local rcall = redis.call
local holder = rcall('GET', KEYS[1])
if ARGV[3] == 'release' then
  if holder == ARGV[1] then
    rcall('DEL', KEYS[1])
    return 1
  end
  return 0
end
if holder and holder ~= ARGV[1] then return 0 end
rcall('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
return 1
