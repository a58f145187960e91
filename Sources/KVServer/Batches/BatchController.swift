import Foundation
import HTTPTypes
import Hummingbird
import KVStore
import NIOCore
import ObjectStore

/// `POST /kv` (batch write) and `POST /kv?delete` (batch delete).
///
/// Every item is validated before anything is written: one bad item rejects the whole request
/// with a 400 that lists every bad item. Then items go to the backend, at most
/// ``ServerConfiguration/batchConcurrency`` at a time, and the answer reports each item's
/// outcome: 200 when all succeeded, 207 when some failed. A batch is not atomic.
struct BatchController: Sendable {
    static let bodyExpansion = BodyBuffering.batchExpansion

    let store: KeyValueStore
    let configuration: ServerConfiguration
    let bodies: BodyReader

    func post(_ request: Request, context: KVRequestContext) async throws -> Response {
        let limit = self.configuration.maxBatchBytes
        let deleting = request.uri.queryParameters.has("delete")
        return try await self.bodies.withBody(request, limit: limit, tooLarge: .batchTooLarge(limit: limit), expansion: Self.bodyExpansion) {
            body in
            deleting ? try await self.delete(body, access: context.access) : try await self.write(body, access: context.access)
        }
    }

    // MARK: Writes

    private struct WriteRequest: Decodable {
        struct Item: Decodable {
            var key: String?
            var value: String?
            var valueBase64: String?
            var ttl: String?
            var contentType: String?

            enum CodingKeys: String, CodingKey {
                case key, value, ttl
                case valueBase64 = "value_base64"
                case contentType = "content_type"
            }
        }
        var items: [Item]

        init(from decoder: any Decoder) throws {
            self.items = try BatchField.container(of: decoder, allowed: ["items"]).decode([Item].self, forKey: BatchField("items"))
        }
    }

    private func write(_ body: ByteBuffer, access: AccessGrant) async throws -> Response {
        let request = try Self.decode(WriteRequest.self, from: body)
        try Self.checkCount(request.items.count)
        try Self.checkAccess(request.items.map(\.key), access)
        var writes: [BatchWrite] = []
        var problems: [ItemProblem] = []
        // Keyed by Key, whose identity is its bytes: two spellings of "é" are two keys.
        var seen: [Key: Int] = [:]
        for (index, item) in request.items.enumerated() {
            do throws(APIError) {
                let write = try self.validate(item)
                if let first = seen[write.key] {
                    throw .badRequest("duplicate_key", "the key is also written by item \(first)")
                }
                seen[write.key] = index
                writes.append(write)
            } catch {
                problems.append(ItemProblem(index: index, key: item.key, code: error.code, message: error.message))
            }
        }
        guard problems.isEmpty else { throw APIError.invalidBatch(problems) }

        let results = await self.store.putMany(writes, concurrency: self.configuration.batchConcurrency)
        let items = zip(writes, results).map { write, result in
            switch result {
            case .success(let receipt): WriteOutcome(receipt)
            case .failure(let error): WriteOutcome(key: write.key.rawValue, error: APIError.describing(error))
            }
        }
        let failed = items.filter { $0.error != nil }.count
        return try JSONResponse.make(
            WriteBatchResponse(items: items, written: items.count - failed, failed: failed),
            status: failed == 0 ? .ok : .init(code: 207, reasonPhrase: "Multi-Status")
        )
    }

    private func validate(_ item: WriteRequest.Item) throws(APIError) -> BatchWrite {
        guard let name = item.key else { throw .badRequest("key_missing", "the item has no key") }
        let key: Key
        do {
            key = try Key(name)
        } catch {
            throw APIError(error)
        }
        let value: ByteBuffer
        switch (item.value, item.valueBase64) {
        case (let text?, nil):
            value = ByteBuffer(string: text)
        case (nil, let encoded?):
            guard let data = Data(base64Encoded: encoded) else {
                throw .badRequest("invalid_base64", "value_base64 is not valid base64")
            }
            value = ByteBuffer(bytes: data)
        case (nil, nil):
            throw .badRequest("value_missing", "the item needs value (UTF-8 text) or value_base64 (any bytes)")
        case (.some, .some):
            throw .badRequest("value_ambiguous", "give value or value_base64, not both")
        }
        guard value.readableBytes <= self.configuration.maxValueBytes else {
            throw .valueTooLarge(limit: self.configuration.maxValueBytes)
        }
        let ttl = try item.ttl.map { text throws(APIError) in try QueryOptions.ttl(parsing: text) }
        let contentType = try ContentTypePolicy.storedContentType(item.contentType)
        return BatchWrite(key: key, value: value, contentType: contentType, ttl: ttl)
    }

    // MARK: Deletes

    private struct DeleteRequest: Decodable {
        var keys: [String]

        init(from decoder: any Decoder) throws {
            self.keys = try BatchField.container(of: decoder, allowed: ["keys"]).decode([String].self, forKey: BatchField("keys"))
        }
    }

    private func delete(_ body: ByteBuffer, access: AccessGrant) async throws -> Response {
        let request = try Self.decode(DeleteRequest.self, from: body)
        try Self.checkCount(request.keys.count)
        try Self.checkAccess(request.keys, access)
        var keys: [Key] = []
        var problems: [ItemProblem] = []
        for (index, name) in request.keys.enumerated() {
            do {
                keys.append(try Key(name))
            } catch {
                let apiError = APIError(error)
                problems.append(ItemProblem(index: index, key: name, code: apiError.code, message: apiError.message))
            }
        }
        guard problems.isEmpty else { throw APIError.invalidBatch(problems) }

        let outcomes = await self.store.deleteMany(keys, concurrency: self.configuration.batchConcurrency)
        var deleted: [String] = []
        var failed: [DeleteBatchResponse.Failure] = []
        for (key, outcome) in zip(keys, outcomes) {
            switch outcome {
            case .deleted: deleted.append(key.rawValue)
            case .failed(let error):
                let apiError = APIError(error)
                failed.append(.init(key: key.rawValue, code: apiError.code, message: apiError.message))
            }
        }
        return try JSONResponse.make(DeleteBatchResponse(deleted: deleted, failed: failed), status: failed.isEmpty ? .ok : .init(code: 207, reasonPhrase: "Multi-Status"))
    }

    // MARK: Helpers

    /// Refuses the whole batch, naming each item, when the token is confined to a prefix and
    /// some keys are outside it: checked before the items are, so nothing is done.
    private static func checkAccess(_ keys: [String?], _ access: AccessGrant) throws(APIError) {
        guard let prefix = access.confinement else { return }
        let outside = keys.enumerated().compactMap { index, key in
            key.flatMap { access.permits(key: $0) ? nil : ItemProblem(index: index, key: $0, code: "forbidden", message: "outside '\(prefix)'") }
        }
        guard outside.isEmpty else { throw .forbiddenItems(outside, prefix: prefix) }
    }

    private static func decode<Body: Decodable>(_ type: Body.Type, from body: ByteBuffer) throws -> Body {
        do {
            return try JSONDecoder().decode(Body.self, from: Data(body.readableBytesView))
        } catch {
            throw APIError.badRequest("invalid_json", "the body is not the JSON the batch expects: \(Self.describe(error))")
        }
    }

    private static func checkCount(_ count: Int) throws(APIError) {
        guard (1...KeyValueStore.maximumBatchItems).contains(count) else {
            throw .badRequest("invalid_batch_size", "a batch holds 1 to \(KeyValueStore.maximumBatchItems) items, got \(count)")
        }
    }

    /// A decoding error in one line, naming where in the body it is.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "it is not valid JSON" }
        let path: [any CodingKey]
        let reason: String
        switch error {
        case .typeMismatch(let type, let context): (path, reason) = (context.codingPath, "expected \(type)")
        case .valueNotFound(let type, let context): (path, reason) = (context.codingPath, "expected \(type), found null")
        case .keyNotFound(let key, let context): (path, reason) = (context.codingPath + [key], "missing")
        case .dataCorrupted(let context):
            (path, reason) = (context.codingPath, context.codingPath.isEmpty ? "it is not valid JSON" : context.debugDescription)
        @unknown default: return "it is not valid JSON"
        }
        let location = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return location.isEmpty ? reason : "\(location.dropFirst(location.hasPrefix(".") ? 1 : 0)): \(reason)"
    }
}

/// An item of a batch that cannot be carried out as given.
public struct ItemProblem: Encodable, Equatable, Sendable {
    public var index: Int
    public var key: String?
    public var code: String
    public var message: String
}

/// One item's outcome: a PUT's JSON when written, its error when not, and its status either way.
private struct WriteOutcome: Encodable {
    struct Failure: Encodable {
        var code: String
        var message: String
    }

    var key: String
    var status: Int
    var receipt: WriteResponse?
    var error: Failure?

    init(_ receipt: WriteReceipt) {
        self.key = receipt.key.rawValue
        self.status = 200
        self.receipt = WriteResponse(receipt)
    }

    init(key: String, error: APIError) {
        self.key = key
        self.status = error.status.code
        self.error = Failure(code: error.code, message: error.message)
    }

    enum CodingKeys: String, CodingKey {
        case key, status, error
    }

    func encode(to encoder: any Encoder) throws {
        // The receipt's fields sit beside status and error, as in the single PUT's answer.
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let receipt = self.receipt {
            try receipt.encode(to: encoder)
        } else {
            try container.encode(self.key, forKey: .key)
        }
        try container.encode(self.status, forKey: .status)
        try container.encodeIfPresent(self.error, forKey: .error)
    }
}

private struct WriteBatchResponse: Encodable {
    var items: [WriteOutcome]
    var written: Int
    var failed: Int
}

private struct DeleteBatchResponse: Encodable {
    struct Failure: Encodable {
        var key: String
        var code: String
        var message: String
    }

    var deleted: [String]
    var failed: [Failure]
}
