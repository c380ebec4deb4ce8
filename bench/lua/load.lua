-- wrk script for `make bench`: every request differs, driven by a per-thread counter n.
--
--   wrk ... -s load.lua URL -- book TOKEN FIRST_DAY_EPOCH OFFSET TABLES HOURS THREADS
--     POST /api/v1/bookings for table T(n % TABLES), hour (n / TABLES) % HOURS, day
--     n / (TABLES * HOURS) after FIRST_DAY; thread k takes n = OFFSET + k + i * THREADS,
--     so no two requests ask for the same slot. Success is 201.
--   wrk ... -s load.lua URL -- get PATH FIRST_DAY_EPOCH DAYS HOURS
--     GET PATH with {date} and {hour} filled from n, spread over DAYS days and HOURS
--     hours from FIRST_DAY. Success is 200.
--   wrk ... -s load.lua URL -- post PATH
--     POST PATH with a small JSON body, the same every time. Success is 201.
--
-- done() prints one line, WRK_RESULT {json}, that bench/load.py reads.

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  first_day = tonumber(args[3])
  ok = 0
  other = 0
  if mode == "book" then
    tables = tonumber(args[5])
    hours = tonumber(args[6])
    step = tonumber(args[7])
    n = tonumber(args[4]) + tid
    expected = 201
    wrk.method = "POST"
    wrk.headers["Authorization"] = "Bearer " .. args[2]
    wrk.headers["Content-Type"] = "application/json"
  elseif mode == "post" then
    expected = 201
    wrk.method = "POST"
    wrk.path = args[2]
    wrk.body = '{"bench":true}'
    wrk.headers["Content-Type"] = "application/json"
  else
    template = args[2]
    days = tonumber(args[4])
    hours = tonumber(args[5])
    n = tid
    expected = 200
  end
end

local function booking()
  local slot = math.floor(n / tables)
  local day = os.date("!%Y-%m-%d", first_day + math.floor(slot / hours) * 86400)
  local body = string.format(
    '{"date":"%s","time":"%02d:00","party_size":2,"guest_name":"Guest %d","table_id":"T%d"}',
    day, slot % hours, n, n % tables)
  n = n + step
  return wrk.format(nil, "/api/v1/bookings", nil, body)
end

local function read()
  local day = os.date("!%Y-%m-%d", first_day + (n % days) * 86400)
  local hour = string.format("%02d", math.floor(n / days) % hours)
  n = n + 1
  local path = template:gsub("{date}", day):gsub("{hour}", hour)
  return wrk.format("GET", path)
end

function request()
  if mode == "book" then return booking() end
  if mode == "post" then return wrk.format() end
  return read()
end

function response(status, headers, body)
  if status == expected then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local good, bad = 0, 0
  for _, thread in ipairs(threads) do
    good = good + thread:get("ok")
    bad = bad + thread:get("other")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"seconds":%.6f,"ok":%d,"other":%d,"p50_us":%d,"p99_us":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration / 1e6, good, bad, latency:percentile(50),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout))
end
