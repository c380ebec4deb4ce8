-- Apply one batch of a Redis projection atomically with its checkpoint.
-- KEYS[1]: the checkpoint key. ARGV[1]: the checkpoint the batch was read after
-- ("" when the model is being created from nothing). ARGV[2]: the new checkpoint.
-- ARGV[3..]: commands, each as <argument count> followed by its arguments.
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if current then return redis.error_reply('STALE ' .. current) end
elseif current ~= ARGV[1] then
  return redis.error_reply('STALE ' .. tostring(current))
end
local i = 3
while i <= #ARGV do
  local count = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + count))
  i = i + count + 1
end
redis.call('SET', KEYS[1], ARGV[2])
return 'OK'
