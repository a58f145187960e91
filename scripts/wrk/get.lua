-- GET of the URL's path, over and over.
package.path = debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua;" .. package.path
local report = require("report")
done = report.done

-- BENCH_HEADERS adds headers, "Name: value" separated by newlines (an Authorization header for
-- the access-control rows); they are set once, so the request costs wrk no more to format.
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  wrk.headers[name] = value
end
