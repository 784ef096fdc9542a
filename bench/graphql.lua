-- wrk script: POST GraphQL request bodies read from a file, cycling over its lines.
-- Environment:
--   WRK_BODIES   file with one JSON request body per line (required)
--   WRK_API_KEY  value of the x-api-key header (optional)
-- A response counts as an error when its status is not 200 or its body has an "errors" or
-- "errorMessage" key. done() prints one JSON line (prefixed with WRK_RESULT) for bench/common.py.
local path = assert(os.getenv("WRK_BODIES"), "WRK_BODIES is required")
local key = os.getenv("WRK_API_KEY")
local bodies = {}
local f = assert(io.open(path, "r"))
for line in f:lines() do
  if #line > 0 then bodies[#bodies + 1] = line end
end
f:close()
assert(#bodies > 0, "WRK_BODIES has no lines")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if key and #key > 0 then wrk.headers["x-api-key"] = key end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

local n = 0
errs = 0
first_error = ""

function request()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[(n % #bodies) + 1])
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) or string.find(body, '"errorMessage"', 1, true) then
    errs = errs + 1
    if first_error == "" then first_error = tostring(status) .. " " .. string.sub(body, 1, 200) end
  end
end

function done(summary, latency, requests)
  local e = 0
  local sample = ""
  for _, t in ipairs(threads) do
    e = e + (tonumber(t:get("errs")) or 0)
    local s = t:get("first_error")
    if s and s ~= "" and sample == "" then sample = s end
  end
  sample = string.gsub(sample, '[%c"\\]', " ")
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"seconds":%.3f,"rps":%.2f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,' ..
    '"max_ms":%.3f,"mean_ms":%.3f,"graphql_errors":%d,"socket_errors":%d,"timeouts":%d,"first_error":"%s"}\n',
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000, e,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status,
    summary.errors.timeout, sample))
end
