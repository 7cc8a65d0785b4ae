-- wrk script for POST /v1/fallback at a fixed offered rate (driven by scripts/bench_webhook.py).
--
--   wrk -t1 -c64 -d20s --timeout 5s -s scripts/bench_webhook.lua http://127.0.0.1:PORT/v1/fallback \
--       -- QUERIES_FILE RATE TOKEN RUN_ID THREADS
--
-- RATE is the offered load of the whole run (req/s, split over the THREADS = wrk -t threads).
-- QUERIES_FILE holds one JSON string literal per line (the query, already JSON-escaped); thread i
-- sends lines i, i+T, i+2T, ... in order. Every request gets its own conversation_id/message_id, so
-- the service's idempotent replay never answers from the event log.
--
-- Debian's wrk is closed-loop (no -R like wrk2). Fixed offered load comes from delay(): each thread
-- keeps a schedule of send slots at RATE/T per second and a connection about to send claims the next
-- slot and waits for it. The connections act as a pool, like a bot platform's HTTP client: a request
-- is sent late only when every connection is busy. Lateness (actual send - scheduled slot) is tracked
-- and reported, because wrk measures latency from the actual send; a late run is reported as
-- saturated rather than trusted.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("tid", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local queries = {}
local interval_us, next_slot = 0, nil
local token, run_id = "dev-token", "run"
local pos = 0
-- globals, read back per thread in done()
sent, late, late_sum_us, late_max_us = 0, 0, 0, 0
n_answer, n_pending_review, n_handoff, n_blocked, n_other = 0, 0, 0, 0, 0
local ACTIONS = { "answer", "pending_review", "handoff", "blocked", "other" }

function init(args)
  local path, rate = args[1], tonumber(args[2])
  token = args[3] or token
  run_id = args[4] or run_id
  local n = 0
  for q in io.lines(path) do
    n = n + 1
    queries[n] = q
  end
  stride = tonumber(args[5]) or 1 -- wrk -t, passed again: init() cannot see the setup() state
  pos = tid
  interval_us = 1000000 * stride / rate
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-Backstop-Token"] = token
end

function delay()
  local now = now_us()
  if next_slot == nil then
    -- stagger threads inside one interval so they do not send in lock-step
    next_slot = now + interval_us * (tid / stride)
  end
  local slot = next_slot
  next_slot = slot + interval_us
  if slot >= now then
    return math.floor((slot - now) / 1000) -- wrk timers have 1 ms resolution
  end
  local behind = now - slot
  if behind > 1000 then
    late = late + 1
    late_sum_us = late_sum_us + behind
    if behind > late_max_us then late_max_us = behind end
  end
  return 0
end

function request()
  local i = (pos % #queries) + 1
  pos = pos + stride
  sent = sent + 1
  local id = run_id .. "-" .. tid .. "-" .. sent
  local body = '{"query":' .. queries[i] .. ',"user_id":"bench-u' .. tid .. '-' .. (sent % 4999) ..
      '","conversation_id":"c-' .. id .. '","message_id":"m-' .. id .. '"}'
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  local action = status == 200 and string.match(body, '"action":"([a-z_]+)"') or "other"
  local name = "n_" .. action
  if _G[name] == nil then name = "n_other" end
  _G[name] = _G[name] + 1
end

function done(summary, latency, requests)
  local late_n, late_sum, late_max, sent_n = 0, 0, 0, 0
  local merged = {}
  for _, t in ipairs(threads) do
    sent_n = sent_n + (t:get("sent") or 0)
    late_n = late_n + (t:get("late") or 0)
    late_sum = late_sum + (t:get("late_sum_us") or 0)
    late_max = math.max(late_max, t:get("late_max_us") or 0)
    for _, a in ipairs(ACTIONS) do merged[a] = (merged[a] or 0) + (t:get("n_" .. a) or 0) end
  end
  local acts = {}
  for _, a in ipairs(ACTIONS) do acts[#acts + 1] = string.format('"%s":%d', a, merged[a]) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"p999":%d},' ..
    '"sent":%d,"late_sends":%d,"late_mean_us":%.1f,"late_max_us":%d,"actions":{%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency:percentile(99.9),
    sent_n, late_n, late_n > 0 and late_sum / late_n or 0, late_max, table.concat(acts, ",")))
end
