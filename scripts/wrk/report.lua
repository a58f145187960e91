-- Shared by every scenario: prints one JSON line that scripts/bench.py reads.
local report = {}

function report.done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format('{"requests":%d,"duration_us":%d,"p50":%d,"p99":%d,"errors":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), errors))
end

-- Numbers the threads, so generated keys never collide.
local counter = 0
function report.setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

return report
