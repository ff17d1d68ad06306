--[[
  JSON documents in Lua, shared by every script that reads a stored document or writes one it decoded.

  Rule: a script decodes everything it needs before its first write, and a stored document that cjson
  refuses never stops a script half-way. cjson refuses two things that JSON.stringify writes: a lone UTF-16
  surrogate escape ("\ud83d" without its pair) and nesting deeper than 1,000. decodeDoc tries cjson first
  (the usual case costs nothing more); when cjson refuses, it decodes a repaired copy in which every lone
  surrogate escape is \ufffd (the replacement character) and every container nested deeper than
  REPAIR_MAX_DEPTH is null. A script that stores a repaired document again stores the repaired form.
  decodeDoc returns nil only for text that is not a JSON object at all.

  Events carry the public shape of a document: the fields that exist only for the server's own indexes
  (INTERNAL_FIELDS: the fact fingerprint and supersession slots, the search text) are left out of event data
  (docs/EVENTS.md); Node derives the search text again from the public fields.
]]
local REPAIR_MAX_DEPTH = 100
local INTERNAL_FIELDS = { search_text = true, fingerprint = true, slots = true }

local function isHighSurrogate(code) return code >= 0xD800 and code <= 0xDBFF end
local function isLowSurrogate(code) return code >= 0xDC00 and code <= 0xDFFF end

-- Copies the JSON string starting at the quote at `q` into `emit`, lone surrogate escapes replaced;
-- returns the index after its closing quote.
local function repairString(raw, q, emit)
  local len = #raw
  local k = q + 1
  emit('"')
  while k <= len do
    local p = string.find(raw, '[\\"]', k)
    if not p then emit(string.sub(raw, k)); return len + 1 end
    emit(string.sub(raw, k, p - 1))
    if string.sub(raw, p, p) == '"' then emit('"'); return p + 1 end
    if string.sub(raw, p + 1, p + 1) == 'u' then
      local code = tonumber(string.sub(raw, p + 2, p + 5), 16)
      local pair = string.sub(raw, p + 6, p + 7) == '\\u' and tonumber(string.sub(raw, p + 8, p + 11), 16)
      if code and isHighSurrogate(code) and pair and isLowSurrogate(pair) then
        emit(string.sub(raw, p, p + 11)); k = p + 12
      elseif code and (isHighSurrogate(code) or isLowSurrogate(code)) then
        emit('\\ufffd'); k = p + 6
      else
        emit(string.sub(raw, p, p + 5)); k = p + 6
      end
    else
      emit(string.sub(raw, p, p + 1)); k = p + 2
    end
  end
  return k
end

-- The text with lone surrogate escapes replaced and too-deep containers cut to null.
local function repairJson(raw)
  local out, n = {}, 0
  local depth, cutAt = 0, nil
  local function emit(s) if not cutAt then n = n + 1; out[n] = s end end
  local i, len = 1, #raw
  while i <= len do
    local j = string.find(raw, '[%[%]{}"]', i)
    if not j then emit(string.sub(raw, i)); break end
    emit(string.sub(raw, i, j - 1))
    local c = string.sub(raw, j, j)
    if c == '"' then
      i = repairString(raw, j, emit)
    elseif c == '[' or c == '{' then
      depth = depth + 1
      if depth > REPAIR_MAX_DEPTH and not cutAt then emit('null'); cutAt = depth end
      emit(c); i = j + 1
    else
      emit(c)
      if cutAt == depth then cutAt = nil end
      depth = depth - 1; i = j + 1
    end
  end
  return table.concat(out)
end

-- The decoded object, repaired when cjson refuses the text as stored; nil when it is not a JSON object.
local function decodeDoc(raw)
  if type(raw) ~= 'string' then return nil end
  local ok, doc = pcall(cjson.decode, raw)
  if not ok then ok, doc = pcall(cjson.decode, repairJson(raw)) end
  if ok and type(doc) == 'table' then return doc end
  return nil
end

-- Encodes a decoded object; fields named in `arrays` that are empty tables become [] (cjson writes {}),
-- fields named in `skip` are left out.
local function encodeDoc(doc, arrays, skip)
  local parts = {}
  for key, value in pairs(doc) do
    if not (skip and skip[key]) then
      local json
      if arrays[key] and type(value) == 'table' and next(value) == nil then
        json = '[]'
      else
        json = cjson.encode(value)
      end
      parts[#parts + 1] = cjson.encode(key) .. ':' .. json
    end
  end
  return '{' .. table.concat(parts, ',') .. '}'
end

-- The event data of a document: its public fields.
local function eventJsonOf(doc, arrays)
  return encodeDoc(doc, arrays, INTERNAL_FIELDS)
end
