-- PUT of BENCH_BODY_BYTES bytes to a new key each time: the URL's path, a thread id and a count.
package.path = debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua;" .. package.path
local report = require("report")
setup = report.setup
done = report.done

local body = string.rep("p", tonumber(os.getenv("BENCH_BODY_BYTES") or "100"))
local n = 0
request = function()
  n = n + 1
  return wrk.format("PUT", wrk.path .. "-" .. id .. "-" .. n, nil, body)
end
