import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import KVServer
import KVStore
import Logging
import NIOCore
import LocalStores
import ObjectStore
import Synchronization
import TestSupport
import Testing

/// The bounds that keep a burst or a stuck backend from taking the process down: the buffer
/// budget, the in-flight limit, the request deadline and the per-key write queue.
@Suite struct LimitsTests {
    @Test("the buffer budget grants in arrival order, waits a bounded time, and refuses what never fits")
    func bufferBudget() async throws {
        let budget = BufferBudget(capacity: 100, maximumWait: .milliseconds(200))
        try await budget.reserve(60)
        #expect(budget.reservedBytes == 60)
        // 50 more do not fit: this waits until 60 are released.
        let waiting = Task { try await budget.reserve(50) }
        try await Task.sleep(for: .milliseconds(50))
        budget.release(60)
        try await waiting.value
        #expect(budget.reservedBytes == 50)
        // Nothing is released now: the wait ends in a refusal (nothing else could end it).
        await #expect(throws: BufferBudget.Refusal.timedOut) { try await budget.reserve(60) }
        await #expect(throws: BufferBudget.Refusal.exceedsCapacity) { try await budget.reserve(101) }
        // A cancelled waiter leaves the queue and the budget is intact.
        let cancelled = Task { try await budget.reserve(60) }
        try await Task.sleep(for: .milliseconds(20))
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        budget.release(50)
        #expect(budget.reservedBytes == 0)
        try await budget.reserve(100)
        budget.release(100)
    }

    @Test("PUTs over the buffer budget get 503 overloaded with Retry-After, and nothing is written")
    func bodiesOverBudget() async throws {
        let objects = TestObjectStore(MemoryObjectStore())
        let release = Gate()
        objects.beforeEachOperation { operation in
            if operation.kind == .put, operation.name == "kv/held" { await release.wait() }
        }
        // A value reserves three times its size: 3,000 of 4,500 for the first, 1,200 for a small one.
        let configuration = ServerConfiguration(maxValueBytes: 1000, bufferBytes: 4500, bufferWait: .milliseconds(100))
        try await withAPI(server: configuration, objects: objects) { client in
            // The first PUT holds its reservation while its write is held.
            let held = Task { try await client.execute(uri: "/kv/held", method: .put, body: ByteBuffer(repeating: 1, count: 1000)) }
            try await Task.sleep(for: .milliseconds(100))
            let refused = try await client.execute(uri: "/kv/other", method: .put, body: ByteBuffer(repeating: 2, count: 1000))
            try refused.expectError(.serviceUnavailable, "overloaded")
            #expect(refused.headers[.retryAfter] == "1")
            // A small one still fits.
            #expect(try await client.execute(uri: "/kv/small", method: .put, body: ByteBuffer(repeating: 3, count: 400)).status == .ok)
            await release.open()
            #expect(try await held.value.status == .ok)
            try await client.execute(uri: "/kv/other", method: .get).expectError(.notFound, "key_not_found")
            #expect(try await client.execute(uri: "/kv/other", method: .put, body: ByteBuffer(repeating: 2, count: 1000)).status == .ok)
        }
    }

    @Test("requests over the in-flight limit get 503 overloaded at once; health and metrics are always served")
    func inFlightLimit() async throws {
        let objects = TestObjectStore(MemoryObjectStore())
        let release = Gate()
        objects.beforeEachOperation { operation in
            if operation.name == "kv/slow" { await release.wait() }
        }
        try await withAPI(server: ServerConfiguration(maxRequestsInFlight: 1), objects: objects) { client in
            let slow = Task { try await client.execute(uri: "/kv/slow", method: .get) }
            try await Task.sleep(for: .milliseconds(100))
            let shed = try await client.execute(uri: "/kv/other", method: .get)
            try shed.expectError(.serviceUnavailable, "overloaded")
            #expect(shed.headers[.retryAfter] == "1")
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .ok)
            await release.open()
            try await slow.value.expectError(.notFound, "key_not_found")
            try await client.execute(uri: "/kv/other", method: .get).expectError(.notFound, "key_not_found")
        }
    }

    @Test("a write queued behind a stuck write of the same key is answered 503 timeout at the request deadline")
    func queuedWriteHonoursTheDeadline() async throws {
        let objects = TestObjectStore(MemoryObjectStore())
        let release = Gate()
        objects.beforeEachOperation { operation in
            if operation.kind == .put, operation.name == "kv/k" { await release.wait() }
        }
        // A deadline long enough that an unhindered write on a loaded CI machine fits in it.
        try await withAPI(server: ServerConfiguration(requestTimeout: .milliseconds(1500)), objects: objects) { client in
            let stuck = Task { try await client.execute(uri: "/kv/k", method: .put, body: ByteBuffer(string: "1")) }
            try await Task.sleep(for: .milliseconds(100))
            // The stuck write is released only after this answer, so the answer can only come
            // from the deadline: no wall-clock bound is needed (and none would hold under load).
            let queued = try await client.execute(uri: "/kv/k", method: .put, body: ByteBuffer(string: "2"))
            try queued.expectError(.serviceUnavailable, "timeout")
            // Other keys are not held up.
            objects.beforeEachOperation(nil)
            #expect(try await client.execute(uri: "/kv/other", method: .put, body: ByteBuffer(string: "x")).status == .ok)
            await release.open()
            _ = try await stuck.value
        }
    }

    @Test("a backend's own words reach the log, never the client")
    func backendDetailStaysInTheLog() async throws {
        let lines = LogLines()
        let logger = lines.logger()
        let secretHost = "s3.internal-\(UUID().uuidString.prefix(8)).example"
        let objects = failingStore(ObjectStoreError(.unavailable, "ConnectFailed: cannot connect to \(secretHost):9000"))
        try await withAPI(objects: objects, logger: logger) { client in
            let response = try await client.execute(uri: "/kv/k", method: .get)
            try response.expectError(.serviceUnavailable, "backend_unavailable")
            #expect(!response.text.contains(secretHost))
            let ready = try await client.execute(uri: "/ready", method: .get)
            #expect(ready.status == .serviceUnavailable && !ready.text.contains(secretHost))
        }
        #expect(lines.all.contains { $0.contains(secretHost) }, "the log keeps what the backend said")
    }
}
