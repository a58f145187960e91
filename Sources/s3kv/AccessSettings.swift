import Foundation
import KVServer

/// The access-control variables: which endpoints stay open, how failures are slowed.
enum AccessSettings {
    static func configuration(_ reader: EnvironmentReader) throws(ConfigurationError) -> AccessConfiguration {
        let defaults = AccessConfiguration()
        var open = defaults.openEndpoints
        if let text = reader.string("KV_AUTH_OPEN_ENDPOINTS") {
            open = []
            if text.lowercased() != "none" {
                for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
                    guard AccessConfiguration.configurableEndpoints.contains(item) else {
                        throw ConfigurationError(
                            variable: "KV_AUTH_OPEN_ENDPOINTS",
                            message: "'\(item)' is not one of \(AccessConfiguration.configurableEndpoints.joined(separator: ", ")) (or none)"
                        )
                    }
                    open.insert(item)
                }
            }
        }
        var throttle = defaults.throttle
        throttle.burst =
            try reader.integer("KV_AUTH_FAILURE_BURST", in: 0...1_000_000, expected: "a number of failures from 0 to 1000000") ?? throttle.burst
        throttle.interval = try reader.duration("KV_AUTH_FAILURE_INTERVAL", allowZero: false) ?? throttle.interval
        return AccessConfiguration(openEndpoints: open, throttle: throttle)
    }
}
