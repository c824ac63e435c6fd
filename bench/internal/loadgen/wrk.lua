-- wrk script for the asgo benchmark harness.
-- Arguments (after --): pipeline=N (requests per write, default 1), method=GET|POST,
-- body=BYTES (request body size; a body of 'x' bytes is sent).
-- done() prints one line "WRKJSON {...}" that the harness parses.

local pipeline, method, bodysize = 1, "GET", 0

function init(args)
  for _, a in ipairs(args) do
    local k, v = a:match("^(%w+)=(.*)$")
    if k == "pipeline" then pipeline = tonumber(v)
    elseif k == "method" then method = v
    elseif k == "body" then bodysize = tonumber(v)
    end
  end
  local body = nil
  if bodysize > 0 then body = string.rep("x", bodysize) end
  -- wrk's default request() returns this global; a dynamic request() is only defined for
  -- pipelining, because wrk 4.1 mis-reads responses to dynamic requests that carry a body.
  wrk.method, wrk.body = method, body
  req = string.rep(wrk.format(method, nil, nil, body), pipeline)
  if pipeline > 1 then
    request = function() return req end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,"errors_read":%d,' ..
    '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
