-- Swap one venue's rebuilt keys into a live Redis model, but only if the live model's
-- checkpoint still holds the token the copy was filled up to: then every write the
-- daemon made to the live keys came from events up to that token, which the copy holds
-- too, and every later one will land on the copy. One script, so readers see the old
-- keys or the new ones, never a mix.
-- KEYS: none (the keys are found by SCAN, like the whole-model swap).
-- ARGV[1]: the live model's checkpoint key. ARGV[2]: the token the copy was filled up to.
-- ARGV[3]: the live root. ARGV[4]: the venue's part of the root ("" for the default
-- venue). ARGV[5]: a SCAN pattern for the venue's live keys. ARGV[6]: the copy's root
-- (every key under it is the venue's). ARGV[7]: a SCAN pattern for the copy's keys.
-- ARGV[8]: the venue's version to set when any of its keys changed ("" for a model
-- without one). ARGV[9]: the name of
-- the version key under the venue's part of the root.
-- Returns {"MOVED", checkpoint} when the checkpoint is not the copy's token, else
-- {"OK", number of keys moved in}.
local checkpoint = redis.call('GET', ARGV[1])
if checkpoint ~= ARGV[2] then
  return {'MOVED', tostring(checkpoint)}
end
local live, venue, copy = ARGV[3], ARGV[4], ARGV[6]
local function each(pattern, fn)
  local cursor = '0'
  repeat
    local reply = redis.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = reply[1]
    for _, key in ipairs(reply[2]) do fn(key) end
  until cursor == '0'
end
-- The default venue's keys sit right under the root, beside the model's own checkpoint
-- and ready keys and beside every other venue's `{venue_id}/` part: none of those is
-- the venue's.
local function venues(key)
  if venue ~= '' then return true end
  local rest = string.sub(key, #live + 1)
  return rest ~= 'checkpoint' and rest ~= 'ready' and not string.find(rest, '/', 1, true)
end
local doomed = {}
each(ARGV[5], function(key) if venues(key) then table.insert(doomed, key) end end)
for _, key in ipairs(doomed) do redis.call('DEL', key) end
local moved = {}
each(ARGV[7], function(key) table.insert(moved, key) end)
for _, key in ipairs(moved) do
  redis.call('RENAME', key, live .. string.sub(key, #copy + 1))
end
if ARGV[8] ~= '' and (#doomed > 0 or #moved > 0) then
  redis.call('SET', live .. venue .. ARGV[9], ARGV[8])
end
return {'OK', #moved}
