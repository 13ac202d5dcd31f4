-- POST /orders with a unique order_id in every body: "<BENCH_TAG>-<thread>-<n>".
-- Environment: BENCH_TAG (run tag), BENCH_BATCH (orders per request; 1 sends an object, more
-- an array), BENCH_AUTH (Authorization header value, optional).
-- done() prints one line "BENCH_RESULT {json}" that bench/run.ts reads.

local tag = os.getenv("BENCH_TAG") or "bench"
local batch = tonumber(os.getenv("BENCH_BATCH") or "1")
local auth = os.getenv("BENCH_AUTH")

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

local headers = { ["Content-Type"] = "application/json" }
if auth and auth ~= "" then headers["Authorization"] = auth end

local counter = 0
ok, bad, last_bad = 0, 0, 0

local function order()
  counter = counter + 1
  return '{"order_id":"' .. tag .. '-' .. id .. '-' .. counter .. '","customer_id":"c-' ..
    (counter % 50) .. '","currency":"USD","items":[' ..
    '{"sku":"TEA","name":"Tea","quantity":2,"unit_price":"9.99"},' ..
    '{"sku":"CUP","name":"Cup","quantity":1,"unit_price":"4.50"}]}'
end

function request()
  local body
  if batch == 1 then
    body = order()
  else
    local orders = {}
    for i = 1, batch do orders[i] = order() end
    body = "[" .. table.concat(orders, ",") .. "]"
  end
  return wrk.format("POST", "/orders", headers, body)
end

function response(status)
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    bad = bad + 1
    last_bad = status
  end
end

function done(summary, latency)
  local ok_total, bad_total, bad_status = 0, 0, 0
  for _, thread in ipairs(threads) do
    ok_total = ok_total + thread:get("ok")
    bad_total = bad_total + thread:get("bad")
    if thread:get("last_bad") ~= 0 then bad_status = thread:get("last_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"duration_us":%d,"requests":%d,"ok":%d,"non_2xx":%d,"last_non_2xx":%d,' ..
    '"socket_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.duration, summary.requests, ok_total, bad_total, bad_status,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
