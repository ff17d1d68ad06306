--[[
  After the delivery jobs of a page of events exist, move the tenant's dispatch cursor past the page and
  queue the jobs' first attempts in event order, but only while this instance still holds the lease: a
  dispatcher that lost it changes nothing (the next holder enqueues the same jobs again, deduplicated by
  job id, and advances).

  Input:
    KEYS[1] dispatch lease (STRING)   KEYS[2] dispatch cursor (STRING)
    KEYS[3] queued first attempts of the tenant (ZSET, lexical "<webhook id>|<padded event id>|<delivery id>")
    ARGV[1] owner id   ARGV[2] new cursor (stream id)   ARGV[3..] members to queue

  Output: 1 advanced; 0 the lease is not this owner's (nothing changed)
]]
local rcall = redis.call
if rcall('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 3, #ARGV do rcall('ZADD', KEYS[3], 0, ARGV[i]) end
rcall('SET', KEYS[2], ARGV[2])
return 1
