public import Foundation
import KVStore
import ObjectStore
public import ServerSupport

/// The KV service's metrics beyond every server's (``MetricsRegistry/standardHelp``): the
/// storage contract's, the value cache's and the error answers'.
public enum KVMetrics {
    public static let help: [String: String] = InstrumentedObjectStore.metricHelp
        .merging(ValueCache.metricHelp) { first, _ in first }
        .merging(ErrorMiddleware.metricHelp) { first, _ in first }
        .merging(AuthorizationMiddleware.metricHelp) { first, _ in first }

    /// A registry with the KV service's help texts and `help` besides.
    public static func registry(help: [String: String] = [:], startTime: Date = Date()) -> MetricsRegistry {
        MetricsRegistry(help: Self.help.merging(help) { _, new in new }, startTime: startTime)
    }
}
