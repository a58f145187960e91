import NIOHTTP1
/// Conditional writes and deletes, and compare-and-swap under contention.
enum ConditionChecks {
    static let all: [Check] = [conditionalWrites, compareAndSwapRace]

    static let conditionalWrites = Check("conditional_writes", "If-None-Match: * creates only, If-Match replaces or deletes only the ETag read; else 412") { context in
        let key = context.key("conditional")
        let path = KVClient.path(key)
        let created = try await context.client.send(.PUT, path, headers: [("if-none-match", "*")], body: Array("one".utf8)).expect(200, "If-None-Match: * on a new key")
        let first = try ValueChecks.etagOf(created)
        try await context.client.send(.PUT, path, headers: [("if-none-match", "*")], body: Array("two".utf8))
            .expectError(412, "precondition_failed", "If-None-Match: * on an existing key")
        try await context.client.send(.PUT, path, headers: [("if-match", "\"00000000000000000000000000000000\"")], body: Array("two".utf8))
            .expectError(412, "precondition_failed", "If-Match on an ETag that was never written")
        let replaced = try await context.client.send(.PUT, path, headers: [("if-match", first)], body: Array("two".utf8)).expect(200, "If-Match on the current ETag")
        let second = try ValueChecks.etagOf(replaced)
        try await context.client.send(.PUT, path, headers: [("if-match", first)], body: Array("three".utf8))
            .expectError(412, "precondition_failed", "If-Match on the replaced ETag")
        try await context.client.send(.DELETE, path, headers: [("if-match", first)])
            .expectError(412, "precondition_failed", "DELETE with If-Match on the replaced ETag")
        let kept = try await context.client.send(.GET, path).expect(200)
        try require(kept.body == Array("two".utf8), "after refused writes the value is \(String(decoding: kept.body, as: UTF8.self).debugDescription), not \"two\"")
        try await context.client.send(.DELETE, path, headers: [("if-match", second)]).expect(204, "DELETE with If-Match on the current ETag")
        try await context.client.send(.PUT, path, headers: [("if-match", "*")], body: Array("four".utf8))
            .expectError(412, "precondition_failed", "If-Match: * on a deleted key")
        return nil
    }

    /// Workers increment one counter, each increment a read and a write conditional on the ETag
    /// read, retried on 412 (or 409): the counter must end at the number of acknowledged
    /// increments, exactly.
    static let workers = 8
    static let incrementsPerWorker = 10

    static let compareAndSwapRace = Check("cas_race", "\(workers) clients × \(incrementsPerWorker) read → If-Match increments of one counter end exact") { context in
        let path = KVClient.path(context.key("counter"))
        let acknowledged = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var done = 0
                    var attempts = 0
                    while done < incrementsPerWorker {
                        attempts += 1
                        try require(attempts <= incrementsPerWorker * 100, "\(attempts) attempts for \(incrementsPerWorker) increments: the race never settles")
                        // A read-modify-write reads from the backend: behind a balancer another
                        // instance's cache may be up to its staleness bound behind.
                        let read = try await context.client.send(.GET, path, headers: [("cache-control", "no-cache")])
                        let condition: (String, String)
                        let current: Int
                        switch read.status {
                        case 404:
                            condition = ("if-none-match", "*")
                            current = 0
                        case 200:
                            condition = ("if-match", try ValueChecks.etagOf(read, header: true))
                            guard let value = Int(String(decoding: read.body, as: UTF8.self)) else {
                                throw CheckFailure("the counter holds \(String(decoding: read.body, as: UTF8.self).debugDescription), not a number")
                            }
                            current = value
                        default:
                            throw CheckFailure("reading the counter: \(read.summary)")
                        }
                        let write = try await context.client.send(.PUT, path, headers: [condition], body: Array(String(current + 1).utf8))
                        switch write.status {
                        case 200: done += 1
                        case 412, 409: continue
                        default: throw CheckFailure("writing the counter: \(write.summary)")
                        }
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        let final = try await context.client.send(.GET, path, headers: [("cache-control", "no-cache")]).expect(200)
        let value = String(decoding: final.body, as: UTF8.self)
        try require(value == String(acknowledged), "\(acknowledged) increments were acknowledged but the counter ends at \(value)")
        return "\(acknowledged) increments"
    }
}
