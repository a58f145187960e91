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
import ServerSupport
import Synchronization
import Testing
import TestSupport

/// Runs `body` against the API on a fresh in-memory store, with request ids `req-1`, `req-2`, ...
func withAPI(
    maxValueBytes: Int = 1024,
    server: ServerConfiguration? = nil,
    objects: any ObjectStore = MemoryObjectStore(),
    store configuration: KVStoreConfiguration = .init(),
    clock: StoreClock = .system,
    metrics: MetricsRegistry = KVMetrics.registry(),
    logger: Logger = Logger(label: "s3kv.test"),
    tokens: AccessTokens? = nil,
    throttle: AuthThrottle? = nil,
    _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
) async throws {
    let counter = Mutex(0)
    let router = KVApplication.router(
        store: KeyValueStore(objects: objects, configuration: configuration, metrics: metrics.factory, clock: clock),
        // A generous deadline: a loaded CI machine must not turn slow tests into timeouts.
        configuration: server ?? ServerConfiguration(maxValueBytes: maxValueBytes, requestTimeout: .seconds(120)),
        metrics: metrics,
        requestIDs: { "req-\(counter.withLock { $0 += 1; return $0 })" },
        tokens: tokens,
        throttle: throttle
    )
    try await Application(router: router, logger: logger).test(.router, body)
}

extension ManualClock {
    func advanceSeconds(_ seconds: Double) { self.advance(.milliseconds(Int64(seconds * 1000))) }
}

/// The decoded `{"error": {...}}` body of an error response.
struct ErrorBody: Decodable, Equatable {
    struct Detail: Decodable, Equatable {
        var code: String
        var message: String
        var request_id: String
    }
    var error: Detail
}

extension TestResponse {
    var text: String { String(buffer: self.body) }

    func json<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(self.body.readableBytesView))
    }

    /// Checks this is a JSON error with `status` and `code` that carries the response's request id.
    func expectError(_ status: HTTPResponse.Status, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(self.status == status, sourceLocation: sourceLocation)
        #expect(self.headers[.contentType] == "application/json; charset=utf-8", sourceLocation: sourceLocation)
        let error = try self.json(ErrorBody.self).error
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
        #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
        #expect(error.request_id == self.headers[.requestID], sourceLocation: sourceLocation)
    }
}
