import Foundation
import KVServer
import ServerSupport

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

/// `TLS_CERT_FILE` and `TLS_KEY_FILE`, which go together; both servers read them.
struct TLSFiles: Sendable, Equatable {
    var certificate: String
    var key: String

    init?(_ reader: EnvironmentReader) throws(ConfigurationError) {
        switch (reader.string("TLS_CERT_FILE"), reader.string("TLS_KEY_FILE")) {
        case (nil, nil): return nil
        case (let certificate?, let key?): (self.certificate, self.key) = (certificate, key)
        case (nil, _): throw ConfigurationError(variable: "TLS_CERT_FILE", message: "required with TLS_KEY_FILE")
        case (_, nil): throw ConfigurationError(variable: "TLS_KEY_FILE", message: "required with TLS_CERT_FILE")
        }
    }

    /// The pair, read and checked.
    func load() throws(TLSCertificatesError) -> TLSCertificates {
        try TLSCertificates(certificatePath: self.certificate, keyPath: self.key)
    }
}
