-- PUT of BENCH_BODY_BYTES bytes to a new key each time: the URL's path, a thread id and a count.
package.path = debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua;" .. package.path
local report = require("report")
setup = report.setup
done = report.done

local body = string.rep("p", tonumber(os.getenv("BENCH_BODY_BYTES") or "100"))
-- BENCH_HEADERS adds headers, "Name: value" separated by newlines: the direct requests to the
-- backend carry the headers s3kv's own PUTs carry, so both store the same kind of object.
local headers = {}
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  headers[name] = value
end
local n = 0
request = function()
  n = n + 1
  return wrk.format("PUT", wrk.path .. "-" .. id .. "-" .. n, headers, body)
end
