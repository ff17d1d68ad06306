--[[
  Bookkeeping of reads: a recall counts each returned engram (frequency + 1, last accessed today), an
  inject counts each injected one (injection_count + 1). Retrieval strength never changes here (plur.md
  §1.6). Counters are not content: no new version, and no event, except engram.accessed (with the whole
  document) when the last-accessed day changes, because inject's decay reads it from the search index, and
  on an engram's first recall or first injection, because insights count the engrams never retrieved from
  the search index (so there, "frequency or injection_count above 0" is exact; the counts themselves lag).

  Input:
    KEYS[1] docs   KEYS[2] workspace event stream
    ARGV[1..5] event context
    ARGV[6] 'recall' | 'inject'   ARGV[7] today (YYYY-MM-DD)   ARGV[8..] engram ids

  Output: the updated document JSON of each id, in order (false for an id that is not an engram)
]]
--- @include "appendEvent"
--- @include "engramDoc"
local ctx = readEventContext()
local recall = ARGV[6] == 'recall'
local today = ARGV[7]
-- Read phase: every document decoded before the first write.
-- (An id given twice is one document, counted twice.)
local docs, byId = {}, {}
for i = 8, #ARGV do
  local id = ARGV[i]
  if byId[id] == nil then byId[id] = loadEngram(KEYS[1], id) or false end
  docs[i] = byId[id]
end
local out = {}
for i = 8, #ARGV do
  local doc = docs[i]
  if doc then
    local events = {}
    if recall then
      doc.frequency = (tonumber(doc.frequency) or 0) + 1
      if doc.last_accessed ~= today or doc.frequency == 1 then
        doc.last_accessed = today
        events = { 'engram.accessed' }
      end
    else
      doc.injection_count = (tonumber(doc.injection_count) or 0) + 1
      if doc.injection_count == 1 then events = { 'engram.accessed' } end
    end
    out[#out + 1] = storeEngram(KEYS[1], KEYS[2], ctx, doc, events)
  else
    out[#out + 1] = false
  end
end
return out
