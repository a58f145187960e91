import ObjectStore
import Synchronization

/// One asynchronous lock per key: writes to the same key from this instance run one at a time,
/// in arrival order; writes to different keys never wait for each other.
///
/// Correctness across instances rests on the backend's conditional writes; this adds two things
/// within an instance. Writers of one hot key queue here instead of racing and retrying against
/// the backend, and compare-and-swap stays exact even on backends whose conditional writes are
/// not atomic under concurrency (moto checks, then writes; see the README).
///
/// Every wait is bounded: a queue holds at most ``maximumWaiters`` writers per key (more are
/// refused as overloaded), a waiter leaves when its task is cancelled, and none waits past its
/// request's ``Deadline``. So a write stuck behind a slow backend holds up a bounded queue for a
/// bounded time.
final class KeyLocks: Sendable {
    /// Writers that may wait for one key; the next is refused.
    static let maximumWaiters = 256

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        /// Locked keys, each with the writers waiting for it, oldest first.
        var waiting: [Key: [Waiter]] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Why a writer did not get the lock.
    enum Refusal: Error {
        case queueFull
        case deadlinePassed
    }

    /// Runs `body` holding `key`'s lock.
    ///
    /// - Throws: ``Refusal`` when the queue is full or the deadline passes while waiting;
    ///   `CancellationError` when the task is cancelled while waiting; or what `body` throws.
    func withLock<Result: Sendable>(_ key: Key, _ body: () async throws -> Result) async throws -> Result {
        try await self.acquire(key)
        defer { self.release(key) }
        return try await body()
    }

    private func acquire(_ key: Key) async throws {
        let id: UInt64? = try self.state.withLock { state in
            guard let queue = state.waiting[key] else {
                state.waiting[key] = []
                return nil
            }
            guard queue.count < Self.maximumWaiters else { throw Refusal.queueFull }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        let timer: Task<Void, Never>? = Deadline.remaining.map { remaining in
            Task {
                guard (try? await Task.sleep(for: remaining)) != nil else { return }
                self.leave(key, id, with: Refusal.deadlinePassed)
            }
        }
        defer { timer?.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = self.state.withLock { state -> Result<Bool, any Error> in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if Deadline.hasPassed { return .failure(Refusal.deadlinePassed) }
                    guard state.waiting[key] != nil else {
                        // Released between the first look and now: take it.
                        state.waiting[key] = []
                        return .success(true)
                    }
                    state.waiting[key]!.append(Waiter(id: id, continuation: continuation))
                    return .success(false)
                }
                switch outcome {
                case .success(true): continuation.resume()
                case .success(false): break
                case .failure(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            self.leave(key, id, with: CancellationError())
        }
    }

    /// Hands the lock to the oldest waiter, or unlocks the key.
    private func release(_ key: Key) {
        let next = self.state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard var queue = state.waiting[key], !queue.isEmpty else {
                state.waiting[key] = nil
                return nil
            }
            let first = queue.removeFirst()
            state.waiting[key] = queue
            return first.continuation
        }
        next?.resume()
    }

    /// Takes waiter `id` out of `key`'s queue, if it is still waiting, and fails it.
    private func leave(_ key: Key, _ id: UInt64, with error: any Error) {
        let waiter = self.state.withLock { state -> Waiter? in
            guard let index = state.waiting[key]?.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiting[key]!.remove(at: index)
        }
        waiter?.continuation.resume(throwing: error)
    }
}
