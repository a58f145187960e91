import NIOHTTP1
/// Removes every key under the run's prefix: listed page by page, deleted in batches of up to
/// 1,000, then listed again. Returns how many keys are left (0 unless the server misbehaves or
/// is unreachable).
struct Cleanup: Sendable {
    let context: CheckContext

    func run() async -> Int {
        for _ in 0..<3 {
            guard let keys = try? await CollectionChecks.list(self.context, prefix: self.context.prefix, limit: 1000).keys else { continue }
            if keys.isEmpty { return 0 }
            for start in stride(from: 0, to: keys.count, by: 1000) {
                let batch = Array(keys[start..<min(start + 1000, keys.count)])
                guard let body = try? CollectionChecks.json(["keys": batch]) else { continue }
                _ = try? await self.context.client.send(.POST, "/kv?delete", headers: [("content-type", "application/json")], body: body)
            }
        }
        return (try? await CollectionChecks.list(self.context, prefix: self.context.prefix, limit: 1000).keys.count) ?? -1
    }
}
