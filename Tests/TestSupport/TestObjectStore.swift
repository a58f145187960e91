import NIOCore
import ObjectStore
import Synchronization

/// An object store for tests: it forwards every operation to `base`, records each (`"put kv/a"`)
/// so tests can count backend requests, and injects faults.
///
/// Two kinds of fault: a hook run before forwarding, whose error fails the operation unapplied
/// (the backend refused or was down), and a hook run after the operation was applied, whose
/// error replaces the answer (the answer was lost: a timeout or a reset after the backend did
/// the work). The second is the ambiguous failure writers must resolve by reading.
public final class TestObjectStore: ObjectStore {
    /// One operation, as the hooks see it.
    public struct Operation: Sendable, CustomStringConvertible {
        public enum Kind: String, Sendable {
            case put, get, head, delete, copy, list, deleteMany, probe
        }

        public var kind: Kind
        /// The object operated on (a copy's destination, a listing's prefix), if any.
        public var name: ObjectName?
        /// Whether it is a write or delete with a condition.
        public var isConditional: Bool
        /// How the log records it, e.g. `put kv/a`, `deleteMany 3`.
        public var description: String
    }

    public let base: any ObjectStore
    private let log = Mutex<[String]>([])
    private let before = Mutex<(@Sendable (Operation) async throws -> Void)?>(nil)
    private let after = Mutex<(@Sendable (Operation) -> ObjectStoreError?)?>(nil)

    public init(_ base: any ObjectStore) {
        self.base = base
    }

    public var limits: ObjectStoreLimits { self.base.limits }

    /// Every operation forwarded so far, in order.
    public var operations: [String] { self.log.withLock { $0 } }
    public func reset() { self.log.withLock { $0.removeAll() } }

    /// Runs `hook` with each operation before forwarding it; an error it throws fails the
    /// operation without applying it.
    public func beforeEach(_ hook: (@Sendable (String) async throws -> Void)?) {
        guard let hook else {
            self.before.withLock { $0 = nil }
            return
        }
        let wrapped: @Sendable (Operation) async throws -> Void = { operation in try await hook(operation.description) }
        self.before.withLock { $0 = wrapped }
    }

    /// As ``beforeEach(_:)-(((String)->Void)?)``, with the whole operation.
    public func beforeEachOperation(_ hook: (@Sendable (Operation) async throws -> Void)?) {
        self.before.withLock { $0 = hook }
    }

    /// Runs `hook` after each operation was applied; an error it returns is thrown instead of
    /// the operation's answer, as when the answer is lost on the way back.
    public func afterEach(_ hook: (@Sendable (Operation) -> ObjectStoreError?)?) {
        self.after.withLock { $0 = hook }
    }

    private func run<Result>(_ operation: Operation, _ body: () async throws -> Result) async throws -> Result {
        self.log.withLock { $0.append(operation.description) }
        if let hook = self.before.withLock({ $0 }) { try await hook(operation) }
        let result = try await body()
        if let hook = self.after.withLock({ $0 }), let lost = hook(operation) { throw lost }
        return result
    }

    public func put(_ name: ObjectName, body: ByteBuffer, options: PutOptions) async throws -> ETag {
        let operation = Operation(kind: .put, name: name, isConditional: options.condition != .none, description: "put \(name)")
        return try await self.run(operation) { try await self.base.put(name, body: body, options: options) }
    }

    public func put(_ name: ObjectName, streaming body: ObjectBody, options: PutOptions) async throws -> ETag {
        let operation = Operation(kind: .put, name: name, isConditional: options.condition != .none, description: "put \(name)")
        return try await self.run(operation) { try await self.base.put(name, streaming: body, options: options) }
    }

    public func stream(_ name: ObjectName, ifNoneMatch: ETagMatch?, range: ByteRange?) async throws -> StreamedObject {
        try await self.run(Operation(kind: .get, name: name, isConditional: false, description: "get \(name)")) {
            try await self.base.stream(name, ifNoneMatch: ifNoneMatch, range: range)
        }
    }

    public func get(_ name: ObjectName, ifNoneMatch: ETagMatch?) async throws -> StoredObject {
        try await self.run(Operation(kind: .get, name: name, isConditional: false, description: "get \(name)")) {
            try await self.base.get(name, ifNoneMatch: ifNoneMatch)
        }
    }

    public func head(_ name: ObjectName, ifNoneMatch: ETagMatch?) async throws -> ObjectInfo {
        try await self.run(Operation(kind: .head, name: name, isConditional: false, description: "head \(name)")) {
            try await self.base.head(name, ifNoneMatch: ifNoneMatch)
        }
    }

    public func delete(_ name: ObjectName, ifMatch: ETag?) async throws {
        try await self.run(Operation(kind: .delete, name: name, isConditional: ifMatch != nil, description: "delete \(name)")) {
            try await self.base.delete(name, ifMatch: ifMatch)
        }
    }

    public func copy(from source: ObjectName, to destination: ObjectName, options: CopyOptions) async throws -> ETag {
        let operation = Operation(
            kind: .copy, name: destination, isConditional: options.sourceIfMatch != nil, description: "copy \(source) \(destination)"
        )
        return try await self.run(operation) { try await self.base.copy(from: source, to: destination, options: options) }
    }

    public func list(_ request: ListRequest) async throws -> ListPage {
        try await self.run(Operation(kind: .list, name: request.prefix, isConditional: false, description: "list \(request.prefix)")) {
            try await self.base.list(request)
        }
    }

    public func deleteMany(_ names: [ObjectName]) async throws -> DeleteManyResult {
        try await self.run(Operation(kind: .deleteMany, name: nil, isConditional: false, description: "deleteMany \(names.count)")) {
            try await self.base.deleteMany(names)
        }
    }

    public func probe() async throws {
        try await self.run(Operation(kind: .probe, name: nil, isConditional: false, description: "probe")) {
            try await self.base.probe()
        }
    }
}
