import Synchronization

/// A bound on the bytes of request bodies held in memory at once, across all requests.
///
/// Values and batches are read whole before they are stored, so without a bound a burst of large
/// uploads holds their sum in memory. Each request reserves what it buffers before reading it (its
/// declared length, or chunk by chunk when it has none); a reservation that does not fit waits, in
/// arrival order, at most ``maximumWait`` for others to finish, and is then refused so the client
/// gets a 503 `overloaded` with `Retry-After` instead of the process running out of memory.
public final class BufferBudget: Sendable {
    /// Why a reservation was refused.
    public enum Refusal: Error, Equatable {
        /// No room came free within the wait.
        case timedOut
        /// More than the whole budget was asked for: it can never fit.
        case exceedsCapacity
    }

    public let capacity: Int
    public let maximumWait: Duration

    private struct Waiter {
        let id: UInt64
        let bytes: Int
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var available: Int
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    public init(capacity: Int, maximumWait: Duration = .seconds(1)) {
        self.capacity = capacity
        self.maximumWait = maximumWait
        self.state = Mutex(State(available: capacity))
    }

    /// Bytes reserved now, for metrics.
    public var reservedBytes: Int { self.capacity - self.state.withLock { $0.available } }

    /// Takes `bytes` from the budget, waiting at most ``maximumWait`` for room.
    ///
    /// - Throws: ``Refusal`` when there is no room in time, or `CancellationError`.
    public func reserve(_ bytes: Int) async throws {
        guard bytes > 0 else { return }
        guard bytes <= self.capacity else { throw Refusal.exceedsCapacity }
        let id: UInt64? = self.state.withLock { state in
            // Arrival order: a request never overtakes one already waiting.
            if state.waiters.isEmpty, state.available >= bytes {
                state.available -= bytes
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        let timer = Task {
            try await Task.sleep(for: self.maximumWait)
            self.fail(id, with: Refusal.timedOut)
        }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = self.state.withLock { state -> Result<Bool, CancellationError> in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.waiters.isEmpty, state.available >= bytes {
                        state.available -= bytes
                        return .success(true)
                    }
                    state.waiters.append(Waiter(id: id, bytes: bytes, continuation: continuation))
                    return .success(false)
                }
                switch outcome {
                case .success(true): continuation.resume()
                case .success(false): break
                case .failure(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            self.fail(id, with: CancellationError())
        }
    }

    /// Returns `bytes` to the budget and hands the room to waiters, oldest first.
    public func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        let granted = self.state.withLock { state in
            state.available += bytes
            return Self.grantFitting(&state)
        }
        for continuation in granted { continuation.resume() }
    }

    /// Removes waiter `id`, if still waiting, and fails it; the waiters it held up may fit now.
    private func fail(_ id: UInt64, with error: any Error) {
        let (waiter, granted) = self.state.withLock { state -> (Waiter?, [CheckedContinuation<Void, any Error>]) in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return (nil, []) }
            let waiter = state.waiters.remove(at: index)
            return (waiter, Self.grantFitting(&state))
        }
        waiter?.continuation.resume(throwing: error)
        for continuation in granted { continuation.resume() }
    }

    /// Takes room for the waiters at the head of the queue that fit, and returns them to resume.
    private static func grantFitting(_ state: inout State) -> [CheckedContinuation<Void, any Error>] {
        var granted: [CheckedContinuation<Void, any Error>] = []
        while let first = state.waiters.first, first.bytes <= state.available {
            state.available -= first.bytes
            granted.append(state.waiters.removeFirst().continuation)
        }
        return granted
    }
}
