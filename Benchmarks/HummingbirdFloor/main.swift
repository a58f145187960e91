// The framework floor for scripts/bench: the smallest Hummingbird 2 server that answers
// `GET /kv/{key}` with a fixed value, configured as s3kv configures its server. Comparing s3kv's
// cached read with this row, and this row with nginx, splits the gap to nginx into what s3kv's
// own code costs and what the framework costs. Not a product: scripts/bench builds and runs it.
//
// Usage: PORT=8080 VALUE_BYTES=100 hummingbird-floor
import Hummingbird
import NIOCore

let environment = Environment()
let port = environment.get("PORT").flatMap(Int.init) ?? 8080
let value = ByteBuffer(repeating: UInt8(ascii: "v"), count: environment.get("VALUE_BYTES").flatMap(Int.init) ?? 100)

let router = Router()
router.get("/kv/{key}") { _, _ in
    Response(
        status: .ok,
        headers: [.contentType: "application/octet-stream"],
        body: .init(byteBuffer: value)
    )
}
let application = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "hummingbird-floor")
)
try await application.runService()
