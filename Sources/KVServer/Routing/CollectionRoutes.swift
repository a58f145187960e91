import HTTPTypes
import Hummingbird
import ObjectStore

/// `/kv` itself: the collection operations, which live here so that no name under `/kv/` is
/// taken from the key space.
///
/// The router treats `/kv` and `/kv/` as one path; `/kv/` (the empty key) goes to the value
/// handlers, which answer its 400.
struct CollectionRoutes: Sendable {
    static let path = "/kv"
    static let methods: [HTTPRequest.Method] = [.get, .post]

    let values: KVController
    let list: ListController
    let batch: BatchController

    func declare(in routes: inout RouteTable) {
        routes.add(
            .exact(Self.path),
            [
                (.get, { request, context in try await self.dispatch(request, context, collection: self.list.list, value: self.values.get) }),
                (.head, { request, context in try await self.dispatch(request, context, collection: nil, value: self.values.head) }),
                (.put, { request, context in try await self.dispatch(request, context, collection: nil, value: self.values.put) }),
                (.delete, { request, context in try await self.dispatch(request, context, collection: nil, value: self.values.delete) }),
                (.post, { request, context in try await self.dispatch(request, context, collection: self.batch.post, value: Self.noValueMethod) }),
            ],
            allowed: Self.methods
        )
    }

    /// POST has no meaning for a single key; `/kv/` still answers the empty key's 400 first.
    @Sendable private static func noValueMethod(_ request: Request, _ context: KVRequestContext) async throws -> Response {
        _ = try KVController.key(of: request, context: context)
        throw APIError.methodNotAllowed(request.method, allowed: [.get, .head, .put, .delete])
    }

    private func dispatch(
        _ request: Request,
        _ context: KVRequestContext,
        collection: RouteTable.Handler?,
        value: RouteTable.Handler
    ) async throws -> Response {
        if !UTF8Bytes.equal(request.uri.path, Self.path) { return try await value(request, context) }
        guard let collection else { throw APIError.methodNotAllowed(request.method, allowed: Self.methods) }
        return try await collection(request, context)
    }
}
