-- Apply one batch of a Redis projection atomically with its checkpoint.
-- KEYS[1]: the checkpoint key. ARGV[1]: the checkpoint the batch was read after
-- ("" when the model is being created from nothing). ARGV[2]: the new checkpoint.
-- ARGV[3]: the batch's commands as a JSON array of arrays ([["HSET", key, field, value]]):
-- one argument however large the batch, decoded by cjson in C.
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if current then return redis.error_reply('STALE ' .. current) end
elseif current ~= ARGV[1] then
  return redis.error_reply('STALE ' .. tostring(current))
end
for _, command in ipairs(cjson.decode(ARGV[3])) do
  redis.call(unpack(command))
end
redis.call('SET', KEYS[1], ARGV[2])
return 'OK'
