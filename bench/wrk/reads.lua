-- GET one read endpoint with ids that exist, paging with cursors as a client would.
-- Environment: BENCH_ENDPOINT ("order", "items" or "summaries"), BENCH_DATA (a file, one value
-- a line: order ids for "order", customer ids for "items", cursors from a full walk of the
-- summaries for "summaries"), BENCH_LIMIT (page size), BENCH_AUTH (Authorization header value).
--   order:     GET /orders/{random id}
--   items:     half the requests the first page of a random customer, half the next page of
--              an earlier answer (its customer_id and next_cursor)
--   summaries: a third the first page, a third a cursor of the full walk (any depth), a third
--              the next page of an earlier answer
-- done() prints one line "BENCH_RESULT {json}" that bench/wrk.ts reads.

local endpoint = os.getenv("BENCH_ENDPOINT") or "order"
local auth = os.getenv("BENCH_AUTH")
local limit = "limit=" .. (os.getenv("BENCH_LIMIT") or "50")

local data = {}
for line in io.lines(os.getenv("BENCH_DATA")) do
  if line ~= "" then data[#data + 1] = line end
end

local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

local headers = {}
if auth and auth ~= "" then headers["Authorization"] = auth end

-- Next pages to ask for, from earlier answers: a bounded FIFO of { customer, cursor }.
local pending, head, tail = {}, 1, 0
local function push(page)
  if tail - head >= 256 then return end
  tail = tail + 1
  pending[tail] = page
end
local function pop()
  if head > tail then return nil end
  local page = pending[head]
  pending[head] = nil
  head = head + 1
  return page
end

ok, bad, last_bad = 0, 0, 0
first, deep, walked = 0, 0, 0

function init(args)
  math.randomseed(os.time() * 1000 + (id or 0))
end

local function any() return data[math.random(#data)] end

function request()
  if endpoint == "order" then
    first = first + 1
    return wrk.format("GET", "/orders/" .. any(), headers)
  end
  local r = math.random()
  local page = (endpoint == "items" and r < 0.5 or endpoint == "summaries" and r < 1 / 3) and pop()
  if endpoint == "items" then
    if page then
      walked = walked + 1
      return wrk.format("GET", "/customers/" .. page.customer .. "/items?" .. limit .. "&cursor=" .. page.cursor, headers)
    end
    first = first + 1
    return wrk.format("GET", "/customers/" .. any() .. "/items?" .. limit, headers)
  end
  if page then
    walked = walked + 1
    return wrk.format("GET", "/customers/summaries?" .. limit .. "&cursor=" .. page.cursor, headers)
  end
  if r < 2 / 3 or #data == 0 then
    first = first + 1
    return wrk.format("GET", "/customers/summaries?" .. limit, headers)
  end
  deep = deep + 1
  return wrk.format("GET", "/customers/summaries?" .. limit .. "&cursor=" .. any(), headers)
end

function response(status, _, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
    if endpoint ~= "order" then
      local cursor = body:match('"next_cursor":"([^"]+)"')
      if cursor then push({ customer = body:match('"customer_id":"([^"]+)"'), cursor = cursor }) end
    end
  else
    bad = bad + 1
    last_bad = status
  end
end

function done(summary, latency)
  local totals = { ok = 0, bad = 0, first = 0, deep = 0, walked = 0 }
  local bad_status = 0
  for _, thread in ipairs(threads) do
    for key in pairs(totals) do totals[key] = totals[key] + thread:get(key) end
    if thread:get("last_bad") ~= 0 then bad_status = thread:get("last_bad") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"duration_us":%d,"requests":%d,"ok":%d,"non_2xx":%d,"last_non_2xx":%d,' ..
    '"socket_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,' ..
    '"count_first_page":%d,"count_deep_cursor":%d,"count_next_page":%d}\n',
    summary.duration, summary.requests, totals.ok, totals.bad, bad_status,
    e.connect + e.read + e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean,
    totals.first, totals.deep, totals.walked))
end
