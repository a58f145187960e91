public import CoreMetrics
public import Foundation
public import Prometheus

/// A server's metrics: a Prometheus registry, filled through swift-metrics by every layer, and
/// served in the text exposition format (`GET /metrics` on the KV API).
///
/// The layers below report through ``factory`` without knowing about Prometheus. Each metric
/// gets the help text its layer declares (passed in as `help`), since Prometheus tooling
/// (`promtool check metrics`) expects one on every metric.
public final class MetricsRegistry: Sendable {
    /// Help texts of the metrics every server reports: HTTP requests, refusals before routing and
    /// the process.
    public static let standardHelp: [String: String] = HTTPMetrics.help.merging(processHelp) { first, _ in first }
        .merging(GuardedHTTP1Channel.metricHelp) { first, _ in first }

    static let processHelp = [
        "process_start_time_seconds": "Start time of the process since the Unix epoch, in seconds.",
        "s3kv_build_info": "Always 1; the labels describe the running build.",
    ]

    /// Where every metric lives.
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory the layers report through.
    public let factory: any MetricsFactory

    /// - Parameters:
    ///   - help: help texts by metric name, beyond ``standardHelp``: those of the layers the
    ///     server is built from.
    ///   - startTime: when the process started, for `process_start_time_seconds`.
    public init(help: [String: String] = [:], startTime: Date = Date()) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        self.factory = HelpfulPrometheusFactory(registry: registry, help: Self.standardHelp.merging(help) { _, new in new })
        CoreMetrics.Gauge(label: "process_start_time_seconds", factory: self.factory).record(startTime.timeIntervalSince1970)
        CoreMetrics.Gauge(label: "s3kv_build_info", dimensions: [("version", BuildInfo.version)], factory: self.factory).record(1)
    }

    /// Every metric in the Prometheus text format, version 0.0.4.
    public func exposition() -> [UInt8] {
        self.registry.emitToBuffer()
    }
}

/// What identifies this build in metrics and `--version`.
public enum BuildInfo {
    public static let version = "0.6.0"
}

/// A swift-metrics factory over a Prometheus registry that attaches help texts by name.
///
/// Timers become histograms in seconds with buckets from 1 ms to 10 s, which spans a cached
/// read on loopback to a slow S3 request with retries.
struct HelpfulPrometheusFactory: MetricsFactory {
    static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
        .seconds(10),
    ]
    static let valueBuckets: [Double] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000]

    let registry: PrometheusCollectorRegistry
    let help: [String: String]

    /// The label is the whole metric name, units included.
    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: self.help[label] ?? "")
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        self.registry.makeCounter(descriptor: self.descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        self.registry.makeCounter(descriptor: self.descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else {
            return self.registry.makeGauge(descriptor: self.descriptor(label), labels: dimensions)
        }
        return self.registry.makeValueHistogram(descriptor: self.descriptor(label), labels: dimensions, buckets: Self.valueBuckets)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        self.registry.makeGauge(descriptor: self.descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        self.registry.makeDurationHistogram(descriptor: self.descriptor(label), labels: dimensions, buckets: Self.durationBuckets)
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { self.registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { self.registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        switch handler {
        case let gauge as Prometheus.Gauge: self.registry.unregisterGauge(gauge)
        case let histogram as Histogram<Double>: self.registry.unregisterValueHistogram(histogram)
        default: break
        }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { self.registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? Histogram<Duration> { self.registry.unregisterDurationHistogram(histogram) }
    }
}
