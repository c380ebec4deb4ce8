-- Mark Redis models ready, each only while its checkpoint is still the one it was found
-- caught up at: a Redis that lost the model in between (a failover to an empty master)
-- must not be told that nothing is a finished model.
-- KEYS: for each model, its checkpoint key then its ready key. ARGV: each one's checkpoint.
for i, checkpoint in ipairs(ARGV) do
  if redis.call('GET', KEYS[2 * i - 1]) == checkpoint then
    redis.call('SET', KEYS[2 * i], '1')
  end
end
return 'OK'
