-- 90% GET of /kv/key-0 ... /kv/key-999 (filled beforehand), 10% PUT overwriting one of them.
package.path = debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua;" .. package.path
local report = require("report")
setup = report.setup
done = report.done

local body = string.rep("m", tonumber(os.getenv("BENCH_BODY_BYTES") or "100"))
request = function()
  local path = "/kv/key-" .. math.random(0, 999)
  if math.random(1, 10) == 1 then
    return wrk.format("PUT", path, nil, body)
  end
  return wrk.format("GET", path)
end
