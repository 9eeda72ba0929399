-- wrk script of the benchmarks (deploy/bench/http_load.py sets the environment).
-- GET the URL by default; with EMM_SESSIONS (comma-separated ids), POST one new enrollment per
-- request, spread round-robin over those sessions. EMM_TOKEN is the bearer token. done() prints
-- one line "EMM_WRK {json}" that http_load.py reads: counts, errors and latency percentiles in µs.

local sessions = {}
for id in string.gmatch(os.getenv("EMM_SESSIONS") or "", "[^,]+") do
  sessions[#sessions + 1] = id
end
local token = os.getenv("EMM_TOKEN")
local run = os.getenv("EMM_RUN") or "run"
local threads = {}
local counter = 0

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_number", #threads)
end

function init(args)
  if token then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  if #sessions == 0 then
    return wrk.request()
  end
  counter = counter + 1
  local who = string.format("%s.%d.%d", run, thread_number, counter)
  local body = string.format('{"email":"bench.%s@example.org","full_name":"Bench %s","country":"SN",' ..
                             '"preferred_language":"fr","consent_to_contact":true}', who, who)
  return wrk.format("POST", "/sessions/" .. sessions[counter % #sessions + 1] .. "/enrollments", nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'EMM_WRK {"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,' ..
    '"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
end
