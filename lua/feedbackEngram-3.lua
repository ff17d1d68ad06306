--[[
  Apply one feedback signal to an engram (POST /api/v1/engrams/{id}/feedback), plur.md §1.8:
    positive: retrieval_strength + 0.05 (at most 1); commitment one step up (unset/exploring -> leaning,
              leaning -> decided; never to locked; draft untouched); last accessed today
    negative: retrieval_strength - 0.10 (at least 0); last accessed today
    neutral:  the counter only
  Strength is kept to 4 decimals so repeated steps never drift.

  Input:
    KEYS[1] docs   KEYS[2] workspace event stream   KEYS[3] audit stream of the organisation
    ARGV[1..5] event context; ARGV[4] is the time of the change
    ARGV[6] id   ARGV[7] positive | negative | neutral   ARGV[8] today (YYYY-MM-DD)
    ARGV[9] audit entry JSON ('' = none)   ARGV[10] audit stream MAXLEN

  Output: the document JSON; -1 when there is no such engram
]]
--- @include "appendEvent"
--- @include "engramDoc"
--- @include "appendAudit"
local ctx = readEventContext()
local doc = loadEngram(KEYS[1], ARGV[6])
if not doc then return -1 end
local signal = ARGV[7]
local counts = doc.feedback_signals
if type(counts) ~= 'table' then counts = { positive = 0, negative = 0, neutral = 0 } end
counts[signal] = (tonumber(counts[signal]) or 0) + 1
doc.feedback_signals = counts
local strength = tonumber(doc.retrieval_strength) or 0.7
if signal == 'positive' then
  doc.retrieval_strength = round4(math.min(1, strength + 0.05))
  if doc.commitment == 'exploring' or doc.commitment == nil or doc.commitment == cjson.null then
    doc.commitment = 'leaning'
  elseif doc.commitment == 'leaning' then
    doc.commitment = 'decided'
  end
  doc.last_accessed = ARGV[8]
  doc.last_positive_at = ARGV[4]
elseif signal == 'negative' then
  doc.retrieval_strength = round4(math.max(0, strength - 0.10))
  doc.last_accessed = ARGV[8]
end
appendAudit(KEYS[3], ARGV[10], ARGV[9])
return saveEngram(KEYS[1], KEYS[2], ctx, doc, ARGV[4], { 'engram.feedback' })
