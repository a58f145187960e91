import Synchronization

/// One asynchronous lock per key: writes to the same key from this instance run one at a time,
/// in arrival order; writes to different keys never wait for each other.
///
/// Correctness across instances rests on the backend's conditional writes; this adds two things
/// within an instance. Writers of one hot key queue here instead of racing and retrying against
/// the backend, and compare-and-swap stays exact even on backends whose conditional writes are
/// not atomic under concurrency (moto checks, then writes; see the README).
final class KeyLocks: Sendable {
    /// Locked keys, each with the writers waiting for it.
    private let waiting = Mutex<[Key: [CheckedContinuation<Void, Never>]]>([:])

    /// Runs `body` holding `key`'s lock.
    func withLock<Result: Sendable>(_ key: Key, _ body: () async throws -> Result) async throws -> Result {
        await self.acquire(key)
        defer { self.release(key) }
        return try await body()
    }

    private func acquire(_ key: Key) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = self.waiting.withLock { waiting -> Bool in
                guard waiting[key] != nil else {
                    waiting[key] = []
                    return true
                }
                waiting[key]!.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    private func release(_ key: Key) {
        let next = self.waiting.withLock { waiting -> CheckedContinuation<Void, Never>? in
            guard let queue = waiting[key], !queue.isEmpty else {
                waiting[key] = nil
                return nil
            }
            waiting[key] = Array(queue.dropFirst())
            return queue[0]
        }
        next?.resume()
    }
}
