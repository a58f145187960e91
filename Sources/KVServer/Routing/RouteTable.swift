public import HTTPTypes
public import Hummingbird
import ObjectStore

/// The API's endpoints in one declaration: for each path, the handler of each method.
///
/// Hummingbird's router answers 404 both for unknown paths and for known paths with a wrong
/// method; the table lets ``ErrorMiddleware`` answer 405 with `Allow` for the latter. Declaring
/// handlers here, before registering them, lets that middleware see the whole table.
public struct RouteTable: Sendable {
    public typealias Handler = @Sendable (Request, KVRequestContext) async throws -> Response

    /// How a request path is matched: exactly, or by a prefix followed by a named parameter
    /// that takes the rest of the path (slashes included).
    public enum Pattern: Sendable {
        case exact(String)
        case prefix(String, parameter: String)

        /// Whether `path` is this route's, comparing bytes: Hummingbird's router splits paths
        /// into `Character`s, to which a `/` followed by a combining mark is no separator.
        func matches(_ path: String) -> Bool {
            switch self {
            case .exact(let exact): UTF8Bytes.equal(path, exact)
            case .prefix(let prefix, _): UTF8Bytes.hasPrefix(path, prefix)
            }
        }

        /// The route as metrics and logs name it, e.g. `/kv/{key}`: never the raw path, whose
        /// keys would make a label of unbounded cardinality.
        public var template: String {
            switch self {
            case .exact(let path): path
            case .prefix(let prefix, let parameter): prefix + "{" + parameter + "}"
            }
        }

        /// The pattern in Hummingbird's router syntax.
        var routerPath: RouterPath {
            switch self {
            case .exact(let path): RouterPath(path)
            case .prefix(let prefix, _): RouterPath(prefix + "**")
            }
        }
    }

    private struct Route: Sendable {
        var pattern: Pattern
        var handlers: [(method: HTTPRequest.Method, handler: Handler)]
        var allowed: [HTTPRequest.Method]
    }

    private var routes: [Route] = []

    public init() {}

    /// Declares the handlers of `pattern`, in the order `Allow` lists them.
    ///
    /// - Parameter allowed: what `Allow` lists when it is not every handled method.
    public mutating func add(
        _ pattern: Pattern, _ handlers: [(method: HTTPRequest.Method, handler: Handler)], allowed: [HTTPRequest.Method]? = nil
    ) {
        self.routes.append(Route(pattern: pattern, handlers: handlers, allowed: allowed ?? handlers.map(\.method)))
    }

    /// Registers every declared handler on `router`, after any middleware added to it.
    public func register(on router: Router<KVRequestContext>) {
        for route in self.routes {
            for (method, handler) in route.handlers {
                router.on(route.pattern.routerPath, method: method, use: handler)
            }
        }
    }

    /// The methods the endpoint at `path` accepts, or nil when no endpoint matches.
    public func allowedMethods(forPath path: String) -> [HTTPRequest.Method]? {
        self.routes.first { $0.pattern.matches(path) }?.allowed
    }

    /// The handler for `method` at `path`, matched by bytes, or nil.
    public func handler(forPath path: String, method: HTTPRequest.Method) -> Handler? {
        self.routes.first { $0.pattern.matches(path) }?.handlers.first { $0.method == method }?.handler
    }

    /// The pattern of the endpoint at `path`, or nil when no endpoint matches.
    public func pattern(forPath path: String) -> Pattern? {
        self.routes.first { $0.pattern.matches(path) }?.pattern
    }
}
