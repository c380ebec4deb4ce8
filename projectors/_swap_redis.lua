-- Swap a rebuilt Redis projection in: delete the live keys, rename the rebuilt ones
-- into their place, mark the model ready. One script, so readers see old or new, never
-- a mix. ARGV[1]: live root, ARGV[2]: rebuild root (both end with ':'), ARGV[3]: the
-- live model's ready key (named in read_models/model_keys.py).
local live, rebuilt, ready = ARGV[1], ARGV[2], ARGV[3]
local function each(pattern, fn)
  local cursor = '0'
  repeat
    local reply = redis.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = reply[1]
    for _, key in ipairs(reply[2]) do fn(key) end
  until cursor == '0'
end
local doomed = {}
each(live .. '*', function(key) table.insert(doomed, key) end)
for _, key in ipairs(doomed) do redis.call('DEL', key) end
local moved = {}
each(rebuilt .. '*', function(key) table.insert(moved, key) end)
for _, key in ipairs(moved) do
  redis.call('RENAME', key, live .. string.sub(key, #rebuilt + 1))
end
redis.call('SET', ready, '1')
return #moved
