public import CoreMetrics
public import Logging
public import NIOCore

/// An ``ObjectStore`` that counts and times every request to the store it wraps, by operation
/// and outcome, through swift-metrics, and logs each at debug level.
///
/// Every series exists from the start (at zero), so rates and alerts work before the first
/// failure happens.
public struct InstrumentedObjectStore: ObjectStore {
    /// The metric names this type reports, with their help texts.
    public static let metricHelp: [String: String] = [
        requestsName: "Requests to the storage backend, by operation and outcome.",
        durationName: "Time taken by requests to the storage backend, retries included.",
    ]
    static let requestsName = "s3kv_backend_requests_total"
    static let durationName = "s3kv_backend_request_duration_seconds"

    /// The operations of the storage contract, as metric labels.
    enum Operation: String, CaseIterable {
        case put, get, head, delete, copy, list
        case deleteMany = "delete_many"
        case probe
    }

    /// How a request ended, as a metric label; the expected answers are told apart from failures.
    enum Outcome: String, CaseIterable {
        case ok
        case notFound = "not_found"
        case notModified = "not_modified"
        case preconditionFailed = "precondition_failed"
        case invalidArgument = "invalid_argument"
        case accessDenied = "access_denied"
        case unavailable
        case outcomeUnknown = "outcome_unknown"
        case insufficientStorage = "insufficient_storage"
        case rangeNotSatisfiable = "range_not_satisfiable"
        case error

        init(_ error: any Error) {
            guard let error = error as? ObjectStoreError else {
                self = .error
                return
            }
            switch error.code {
            case .notFound: self = .notFound
            case .notModified: self = .notModified
            case .preconditionFailed: self = .preconditionFailed
            case .invalidArgument: self = .invalidArgument
            case .accessDenied: self = .accessDenied
            case .unavailable: self = .unavailable
            case .outcomeUnknown: self = .outcomeUnknown
            case .insufficientStorage: self = .insufficientStorage
            case .rangeNotSatisfiable: self = .rangeNotSatisfiable
            default: self = .error
            }
        }
    }

    private struct Instruments: Sendable {
        var counters: [Operation: [Outcome: CoreMetrics.Counter]]
        var timers: [Operation: CoreMetrics.Timer]
    }

    public let base: any ObjectStore
    private let instruments: Instruments
    private let logger: Logger

    /// - Parameters:
    ///   - backend: the `backend` label: `s3`, `local` or `memory`.
    ///   - factory: where the metrics go; injected so tests read exact values.
    ///   - logger: where each request is logged at debug level (object name, never its contents).
    public init(_ base: any ObjectStore, backend: String, factory: any MetricsFactory, logger: Logger = Logger(label: "s3kv.backend")) {
        self.base = base
        self.logger = logger
        var counters: [Operation: [Outcome: CoreMetrics.Counter]] = [:]
        var timers: [Operation: CoreMetrics.Timer] = [:]
        for operation in Operation.allCases {
            timers[operation] = Timer(
                label: Self.durationName, dimensions: [("backend", backend), ("operation", operation.rawValue)], factory: factory
            )
            for outcome in Outcome.allCases {
                counters[operation, default: [:]][outcome] = Counter(
                    label: Self.requestsName,
                    dimensions: [("backend", backend), ("operation", operation.rawValue), ("outcome", outcome.rawValue)],
                    factory: factory
                )
            }
        }
        self.instruments = Instruments(counters: counters, timers: timers)
    }

    private func measure<Result>(_ operation: Operation, _ object: ObjectName?, _ body: () async throws -> Result) async throws -> Result {
        let start = ContinuousClock.now
        do {
            let result = try await body()
            self.record(operation, object, .ok, since: start)
            return result
        } catch {
            self.record(operation, object, Outcome(error), since: start)
            throw error
        }
    }

    private func record(_ operation: Operation, _ object: ObjectName?, _ outcome: Outcome, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        self.instruments.timers[operation]?.recordNanoseconds(Int64(elapsed / .nanoseconds(1)))
        self.instruments.counters[operation]?[outcome]?.increment()
        self.logger.debug(
            "backend request",
            metadata: [
                "operation": .string(operation.rawValue), "object": .string(object?.string ?? ""), "outcome": .string(outcome.rawValue),
                "duration_ms": .stringConvertible((elapsed / .microseconds(1)).rounded() / 1000),
            ]
        )
    }

    public var limits: ObjectStoreLimits { self.base.limits }

    public func put(_ key: ObjectName, body: ByteBuffer, options: PutOptions) async throws -> ETag {
        try await self.measure(.put, key) { try await self.base.put(key, body: body, options: options) }
    }

    public func put(_ key: ObjectName, streaming body: ObjectBody, options: PutOptions) async throws -> ETag {
        try await self.measure(.put, key) { try await self.base.put(key, streaming: body, options: options) }
    }

    public func stream(_ key: ObjectName, ifNoneMatch: ETagMatch?, range: ByteRange?) async throws -> StreamedObject {
        try await self.measure(.get, key) { try await self.base.stream(key, ifNoneMatch: ifNoneMatch, range: range) }
    }

    public func get(_ key: ObjectName, ifNoneMatch: ETagMatch?) async throws -> StoredObject {
        try await self.measure(.get, key) { try await self.base.get(key, ifNoneMatch: ifNoneMatch) }
    }

    public func head(_ key: ObjectName, ifNoneMatch: ETagMatch?) async throws -> ObjectInfo {
        try await self.measure(.head, key) { try await self.base.head(key, ifNoneMatch: ifNoneMatch) }
    }

    public func delete(_ key: ObjectName, ifMatch: ETag?) async throws {
        try await self.measure(.delete, key) { try await self.base.delete(key, ifMatch: ifMatch) }
    }

    public func copy(from source: ObjectName, to destination: ObjectName, options: CopyOptions) async throws -> ETag {
        try await self.measure(.copy, destination) { try await self.base.copy(from: source, to: destination, options: options) }
    }

    public func list(_ request: ListRequest) async throws -> ListPage {
        try await self.measure(.list, request.prefix) { try await self.base.list(request) }
    }

    public func deleteMany(_ keys: [ObjectName]) async throws -> DeleteManyResult {
        try await self.measure(.deleteMany, nil) { try await self.base.deleteMany(keys) }
    }

    public func probe() async throws {
        try await self.measure(.probe, nil) { try await self.base.probe() }
    }
}
