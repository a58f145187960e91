-- BENCH_METHOD (GET by default) of the paths in the file BENCH_URLS, one per line, in turn: each
-- a presigned S3 request (path and query), so every request the server sees carries its own
-- signature. Threads start at different lines. BENCH_BODY_BYTES sends a body of that size;
-- BENCH_HEADERS adds headers, "Name: value" separated by newlines.
package.path = debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua;" .. package.path
local report = require("report")
setup = report.setup
done = report.done

local method = os.getenv("BENCH_METHOD") or "GET"
local size = tonumber(os.getenv("BENCH_BODY_BYTES") or "0")
local body = size > 0 and string.rep("u", size) or nil
local headers = {}
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  headers[name] = value
end
local paths = {}
local n = 0

init = function(args)
  for line in io.lines(os.getenv("BENCH_URLS")) do
    paths[#paths + 1] = line
  end
  n = ((id or 1) - 1) * math.floor(#paths / 2)
end

request = function()
  n = n % #paths + 1
  return wrk.format(method, paths[n], headers, body)
end
