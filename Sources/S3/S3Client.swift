import AsyncHTTPClient
public import CoreMetrics
public import Foundation
public import Logging
public import NIOCore
public import NIOHTTP1
import NIOPosix
import NIOSSL
public import ObjectStore
public import S3Protocol

/// A small S3 client over AsyncHTTPClient: signs each request with SigV4, retries what is safe
/// to retry with exponential backoff and full jitter, and turns S3's XML errors into
/// ``S3Error`` values.
///
/// One client keeps one pool of reused connections; call ``shutdown()`` when done.
public final class S3Client: Sendable {
    public let configuration: S3Configuration
    private let http: HTTPClient
    /// The pool for requests S3 may work on for a long time before it answers (see
    /// ``S3Configuration/patientRequestTimeout``): no read timeout, only the attempt's deadline.
    private let patientHTTP: HTTPClient
    private let signer: SigV4Signer
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let metrics: any MetricsFactory
    /// Opens after consecutive unanswered requests, so an outage is answered at once.
    public let circuit: CircuitBreaker

    /// The metric names this type reports, with their help texts.
    public static let metricHelp: [String: String] = [
        retriesName: "S3 requests sent again after a retryable failure, by reason.",
        circuitName: "1 while the circuit to S3 is open (S3 is not answering; requests fail at once), else 0.",
        circuitOpenedName: "Times the circuit to S3 opened.",
    ]
    static let retriesName = "s3kv_s3_retries_total"
    static let circuitName = "s3kv_s3_circuit_open"
    static let circuitOpenedName = "s3kv_s3_circuit_opened_total"
    /// How long a probe of a backend behind an open circuit may take.
    static let probeTimeout = Duration.seconds(1)

    /// A response: status, headers and the whole body.
    public struct Response: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: ByteBuffer
    }

    /// - Parameters:
    ///   - metrics: where retries are counted.
    ///   - now: the clock requests are signed with; injected so tests are exact.
    public init(
        configuration: S3Configuration,
        logger: Logger = Logger(label: "s3kv.s3"),
        metrics: any MetricsFactory = MetricsSystem.factory,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.configuration = configuration
        self.metrics = metrics
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
        self.now = now
        self.logger = logger
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.timeout = .init(connect: .init(configuration.connectTimeout), read: .init(configuration.readTimeout))
        httpConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        // A refused connection fails its requests at once; retries and backoff are this client's
        // (bounded by the caller's deadline, behind the circuit), never the pool's: the pool's
        // own backoff grows with every refusal of an outage and outlasts it by up to a minute.
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        httpConfiguration.decompression = .disabled
        if let caFile = configuration.caFile {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.file(caFile)]
            httpConfiguration.tlsConfiguration = tls
        }
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        httpConfiguration.timeout.read = nil
        self.patientHTTP = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        let gauge = Gauge(label: Self.circuitName, factory: metrics)
        let opened = Counter(label: Self.circuitOpenedName, factory: metrics)
        gauge.record(0)
        self.circuit = CircuitBreaker(configuration: configuration.circuit) { open in
            gauge.record(open ? 1 : 0)
            if open {
                opened.increment()
                logger.warning("S3 is not answering: requests fail at once until a probe gets an answer")
            } else {
                logger.notice("S3 answers again")
            }
        }
    }

    /// Closes the connection pool.
    public func shutdown() async throws {
        self.circuit.stop()
        try await self.http.shutdown()
        try await self.patientHTTP.shutdown()
    }

    /// One HeadBucket, bypassing the circuit: whether S3 answers at all.
    private func probeBucket() async -> Bool {
        do {
            _ = try await Deadline.withTimeout(Self.probeTimeout) {
                try await self.attempt(.HEAD, key: nil, query: [], headers: [], body: nil, payloadHash: SigV4Signer.emptyPayloadHash, maxResponseBytes: 1 << 20)
            }
            return true
        } catch let error as S3Error {
            return error.status != 0 && error.status < 500
        } catch {
            return false
        }
    }

    /// Which failures a request may be sent again after.
    public enum Replay: Sendable {
        /// Any retryable failure: the request means the same however often it is applied (a
        /// read, an unconditional write, a delete without conditions).
        case idempotent
        /// Only failures that prove it was not applied (refused connections, throttling). A
        /// conditional write resent after a lost answer could meet its own effect and fail its
        /// condition, so such failures are thrown, with ``S3Error/mayHaveBeenApplied`` set, for
        /// the caller to resolve by reading.
        case whenNotApplied
    }

    /// Sends one S3 request, retrying retryable failures, and returns a 2xx response (or 304).
    ///
    /// - Parameters:
    ///   - key: the object, or nil for a bucket-level request.
    ///   - query: parameters, not encoded.
    ///   - replay: which failures the request may be resent after.
    ///   - patient: S3 may work on the request for a long time before it answers
    ///     (CompleteMultipartUpload, copies): each attempt has ``S3Configuration/patientRequestTimeout``
    ///     and no read timeout.
    /// - Throws: ``S3Error`` for any other status or when the attempts are used up.
    public func send(
        _ method: HTTPMethod,
        key: String? = nil,
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [],
        body: ByteBuffer? = nil,
        replay: Replay = .idempotent,
        patient: Bool = false
    ) async throws(S3Error) -> Response {
        // Hashed once: retries resend the same payload.
        let payloadHash = body.map { SigV4Signer.payloadHash($0.readableBytesView) } ?? SigV4Signer.emptyPayloadHash
        return try await self.retrying(replay: replay) { () async throws(S3Error) -> Response in
            try await self.attempt(
                method, key: key, query: query, headers: headers, body: body, payloadHash: payloadHash,
                maxResponseBytes: self.configuration.maxResponseBytes, patient: patient
            )
        }
    }

    /// A response whose body is still to be read, as a stream.
    public struct StreamingResponse: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        /// The body, read once with backpressure; the connection's read timeout bounds each wait
        /// for its next bytes, however long the whole transfer takes.
        public var body: ObjectBody
    }

    /// Sends a request without a body and returns as soon as the answer's head arrives, with the
    /// body to be streamed (GetObject of a large value). Retried like ``send(_:key:query:headers:body:replay:)``
    /// until a head arrives; an error status's body is read whole.
    public func sendStreaming(
        _ method: HTTPMethod,
        key: String? = nil,
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = []
    ) async throws(S3Error) -> StreamingResponse {
        try await self.retrying(replay: .idempotent) { () async throws(S3Error) -> StreamingResponse in
            let (response, deadline) = try await self.exchange(
                method, key: key, query: query, headers: headers, body: nil, payloadHash: SigV4Signer.emptyPayloadHash
            )
            let status = Int(response.status.code)
            if (200..<300).contains(status) || status == 304 {
                let length = response.headers.first(name: "content-length").flatMap(Int.init)
                return StreamingResponse(status: status, headers: response.headers, body: ObjectBody(response.body, length: length))
            }
            let bytes: ByteBuffer
            do {
                bytes = try await Self.collect(response.body, upTo: 1 << 20, by: deadline)
            } catch {
                throw self.failure(error)
            }
            throw S3Error.from(status: status, body: Array(bytes.readableBytesView))
        }
    }

    /// Runs `operation` (one attempt), again after each retryable failure `replay` allows, with
    /// backoff, within the caller's deadline.
    private func retrying<Result>(replay: Replay, _ operation: () async throws(S3Error) -> Result) async throws(S3Error) -> Result {
        // Behind an open circuit nothing is sent: the backend is not answering anyone.
        guard self.circuit.isClosed else { throw S3Error.circuitOpen }
        var attempt = 1
        while true {
            do {
                return try await operation()
            } catch let error
                where error.isRetryable && attempt < self.configuration.maxAttempts
                && (replay == .idempotent || !error.mayHaveBeenApplied)
            {
                let delay = self.backoff(attempt: attempt)
                // The retry budget is the caller's deadline: no retry starts that cannot finish.
                if let remaining = Deadline.remaining, remaining < delay + self.configuration.minimumAttemptTime { throw error }
                self.logger.debug("retrying S3 request", metadata: ["error": "\(error.code)", "attempt": "\(attempt)"])
                Counter(label: Self.retriesName, dimensions: [("reason", error.retryReason)], factory: self.metrics).increment()
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    throw S3Error.cancelled
                }
                attempt += 1
            }
        }
    }

    /// Full jitter: a uniform wait between zero and the exponential cap.
    private func backoff(attempt: Int) -> Duration {
        let cap = min(self.configuration.maxBackoff, self.configuration.baseBackoff * (1 << min(attempt - 1, 20)))
        let seconds = Double(cap.components.seconds) + Double(cap.components.attoseconds) / 1e18
        return .milliseconds(Int(Double.random(in: 0...seconds) * 1000))
    }

    /// One attempt, its answer buffered up to `maxResponseBytes`.
    private func attempt(
        _ method: HTTPMethod,
        key: String?,
        query: [(name: String, value: String)],
        headers: [(name: String, value: String)],
        body: ByteBuffer?,
        payloadHash: String,
        maxResponseBytes: Int,
        patient: Bool = false
    ) async throws(S3Error) -> Response {
        let (response, deadline) = try await self.exchange(
            method, key: key, query: query, headers: headers, body: body, payloadHash: payloadHash, patient: patient
        )
        let bytes: ByteBuffer
        do {
            // AsyncHTTPClient's deadline ends at the response head; the body must arrive by
            // the same deadline, so a body that drips is cut off too.
            bytes = try await Self.collect(response.body, upTo: maxResponseBytes, by: deadline)
        } catch {
            throw self.failure(error)
        }
        let status = Int(response.status.code)
        if (200..<300).contains(status) || status == 304 {
            return Response(status: status, headers: response.headers, body: bytes)
        }
        throw S3Error.from(status: status, body: Array(bytes.readableBytesView))
    }

    /// Signs and sends one request and waits for the answer's head; records the outcome in the
    /// circuit. Returns the response and the deadline its body must arrive by.
    private func exchange(
        _ method: HTTPMethod,
        key: String?,
        query: [(name: String, value: String)],
        headers: [(name: String, value: String)],
        body: ByteBuffer?,
        payloadHash: String,
        patient: Bool = false
    ) async throws(S3Error) -> (HTTPClientResponse, ContinuousClock.Instant) {
        let path = self.configuration.encodedPath(key: key)
        var signed = SigV4Signer.Request(
            method: method.rawValue,
            encodedPath: path,
            query: query,
            headers: [("host", self.configuration.hostHeader)] + headers,
            payloadHash: payloadHash
        )
        self.signer.sign(&signed, date: self.now())

        let queryString = query.map { "\(SigV4Signer.uriEncode($0.name))=\(SigV4Signer.uriEncode($0.value))" }.joined(separator: "&")
        var request = HTTPClientRequest(
            url: "\(self.configuration.scheme)://\(self.configuration.hostHeader)\(path)\(queryString.isEmpty ? "" : "?" + queryString)"
        )
        request.method = method
        for (name, value) in signed.headers { request.headers.replaceOrAdd(name: name, value: value) }
        if let body {
            request.body = .bytes(body)
        } else if method == .PUT || method == .POST {
            request.headers.replaceOrAdd(name: "content-length", value: "0")
        }

        // One deadline covers the exchange, capped by the caller's.
        var timeout = patient ? self.configuration.patientRequestTimeout : self.configuration.requestTimeout
        if let remaining = Deadline.remaining {
            guard remaining > .zero else { throw S3Error.deadlineExceeded }
            timeout = min(timeout, remaining)
        }
        let deadline = ContinuousClock.now + timeout
        let response: HTTPClientResponse
        do {
            response = try await (patient ? self.patientHTTP : self.http).execute(request, deadline: .now() + .init(timeout))
        } catch {
            throw self.failure(error)
        }
        if response.status.code >= 500 { self.circuit.recordFailure { await self.probeBucket() } } else { self.circuit.recordAnswer() }
        return (response, deadline)
    }

    /// The error for a transport failure, recorded in the circuit when it means no answer.
    private func failure(_ error: any Error) -> S3Error {
        if Task.isCancelled { return S3Error.cancelled }
        let failure = Self.transportError(error, host: self.configuration.hostHeader)
        if failure.isRetryable { self.circuit.recordFailure { await self.probeBucket() } }
        return failure
    }

    /// Collects a response body, giving up (with a read timeout) at `deadline`.
    private static func collect(_ body: HTTPClientResponse.Body, upTo limit: Int, by deadline: ContinuousClock.Instant) async throws -> ByteBuffer {
        try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask { try await body.collect(upTo: limit) }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let bytes = first else { throw HTTPClientError.readTimeout }
            return bytes
        }
    }

    /// Classifies a failure without an HTTP answer by whether the request can have reached S3.
    ///
    /// Only a connection that was never made proves the request was not sent; anything after
    /// (a read timeout, a reset, a closed connection) leaves the outcome unknown.
    static func transportError(_ error: any Error, host: String) -> S3Error {
        switch error {
        case let error as HTTPClientError where error == .connectTimeout || error == .getConnectionFromPoolTimeout:
            return S3Error(code: S3Error.connectFailedCode, message: "cannot connect to \(host) in time", status: 0)
        case is NIOConnectionError, ChannelError.connectTimeout:
            return S3Error(code: S3Error.connectFailedCode, message: "cannot connect to \(host): \(error)", status: 0)
        case let error as IOError where error.errnoCode == ECONNREFUSED:
            return S3Error(code: S3Error.connectFailedCode, message: "cannot connect to \(host): \(error)", status: 0)
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout:
            return S3Error(code: S3Error.timeoutCode, message: "no answer from \(host) in time", status: 0)
        case let error as HTTPClientError where Self.isInvalidRequest(error):
            return S3Error(code: S3Error.invalidRequestCode, message: "the request to \(host) cannot be sent: \(error)", status: 0)
        default:
            return S3Error(code: S3Error.connectionLostCode, message: "the connection to \(host) failed: \(error)", status: 0)
        }
    }

    /// Errors AsyncHTTPClient raises while validating a request, before any byte is sent, by
    /// their bounded short descriptions (the cases carry values, so they cannot be compared).
    private static func isInvalidRequest(_ error: HTTPClientError) -> Bool {
        ["Invalid URL", "Empty host", "Empty scheme", "Invalid header field names", "Invalid header field values"]
            .contains(error.shortDescription)
    }
}
