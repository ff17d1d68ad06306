--[[
  Active users of an organisation over the last 7 and the last 30 UTC days (read only): the size of the
  union of the per-day sets of user ids that made an authenticated engram-API request. Counted here so
  the members never cross the network.

  Input:
    KEYS[1..30] the organisation's active-user sets (SET) of today, yesterday, ... 29 days ago

  Output: { users of the last 7 days, users of the last 30 days }
]]
local rcall = redis.call
local week = rcall('SUNION', unpack(KEYS, 1, 7))
local month = rcall('SUNION', unpack(KEYS, 1, 30))
return { #week, #month }
