import Hummingbird
import NIOCore

/// `GET /openapi.json`: the OpenAPI 3.1 description of the API; `GET /docs`: a page that
/// renders it for people, with no script or style from outside the service.
///
/// Both are compiled into the binary from `Sources/KVServer/Resources`, so the description
/// served is always the one the binary was built with.
struct APIDocsController: Sendable {
    func declare(in routes: inout RouteTable) {
        routes.add(.exact("/openapi.json"), [(.get, { _, _ in Self.file(PackageResources.openapi_json, type: "application/json") })])
        routes.add(.exact("/docs"), [(.get, { _, _ in Self.file(PackageResources.docs_html, type: "text/html; charset=utf-8") })])
    }

    private static func file(_ bytes: [UInt8], type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
