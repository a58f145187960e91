import NIOHTTP1
/// Time to live: a value written with `?ttl=` is readable until its expiry instant and gone after.
enum ExpiryChecks {
    static let all: [Check] = [expiry]

    static let expiry = Check("ttl_expiry", "a value written with ?ttl=1s says when it expires, is readable, and is 404 once expired") { context in
        let key = context.key("ttl")
        let clock = ContinuousClock()
        let written = clock.now
        let put = try await context.client.send(.PUT, KVClient.path(key, query: "ttl=1s"), body: Array("short-lived".utf8)).expect(200)
        try require(put.string("expires_at") != nil && put.header("x-kv-expires-at") == put.string("expires_at"),
                    "PUT with ttl=1s answered no matching expires_at and X-KV-Expires-At")
        let read = try await context.client.send(.GET, KVClient.path(key))
        if clock.now - written < .milliseconds(900) {
            try read.expect(200, "GET before the expiry")
            try require(read.header("x-kv-expires-at") == put.string("expires_at"), "GET's X-KV-Expires-At is \(read.header("x-kv-expires-at") ?? "none")")
        }
        // Gone from the expiry instant on; allow for the clocks of client and server to differ a
        // little, but a value still served 3 s after it should have expired breaks the rule.
        while true {
            let now = clock.now
            let get = try await context.client.send(.GET, KVClient.path(key))
            if get.status == 404 {
                try get.expectError(404, "key_not_found", "GET after the expiry")
                try require(now - written >= .milliseconds(900), "the value was gone \(now - written) after a write with ttl=1s")
                return nil
            }
            try get.expect(200, "GET while the value may still be live")
            try require(now - written < .seconds(4), "the value is still served \(now - written) after a write with ttl=1s")
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
