/// What the load phase measured, and whether any acknowledged write was lost.
public struct LoadReport: Sendable, Codable, Equatable {
    public var concurrency: Int
    public var seconds: Double
    public var requests: Int
    /// Failed requests by status and error code (`503 outcome_unknown`), or `no answer`.
    public var errors: [String: Int]
    public var acknowledgedWrites: Int
    public var p50Milliseconds: Double
    public var p99Milliseconds: Double
    /// Keys whose final value is neither their last acknowledged write nor a later one whose
    /// answer was lost.
    public var lostWrites: Int
    /// Keys whose final value could not be read.
    public var unverifiable: Int

    public var errorCount: Int { self.errors.values.reduce(0, +) }
    public var requestsPerSecond: Double { self.seconds > 0 ? Double(self.requests) / self.seconds : 0 }

    enum CodingKeys: String, CodingKey {
        case concurrency, seconds, requests, errors
        case acknowledgedWrites = "acknowledged_writes"
        case p50Milliseconds = "p50_ms"
        case p99Milliseconds = "p99_ms"
        case lostWrites = "lost_writes"
        case unverifiable
    }
}
