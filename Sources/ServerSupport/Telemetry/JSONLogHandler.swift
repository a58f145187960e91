public import Foundation
public import Logging
import Synchronization
import WireFormat

/// Writes each log event as one JSON object on one line, for log shippers.
///
/// Fields: `timestamp` (UTC, milliseconds), `level`, `message`, `logger` (the label), then the
/// metadata: the handler's own, the metadata provider's (the request id comes from there) and
/// the event's, later ones winning. Integer, floating-point and Boolean metadata values are
/// written as JSON numbers and Booleans; everything else as strings, escaped per RFC 8259.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    private let label: String
    private let output: LogOutput
    private let now: @Sendable () -> Date

    /// - Parameters:
    ///   - output: where lines go; standard output in the service.
    ///   - now: the clock that stamps events; injected so tests are exact.
    public init(
        label: String,
        level: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil,
        output: LogOutput = .standardOutput,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.label = label
        self.logLevel = level
        self.metadataProvider = metadataProvider
        self.output = output
        self.now = now
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = self.metadata
        if let provided = self.metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let metadata = event.metadata { fields.merge(metadata) { _, new in new } }
        if let error = event.error { fields["error"] = .string("\(error)") }

        var line = "{\"timestamp\":\"\(TimestampFormat.iso8601(self.now()))\",\"level\":\"\(event.level.rawValue)\""
        line += ",\"message\":"
        JSONText.appendString(event.message.description, to: &line)
        line += ",\"logger\":"
        JSONText.appendString(self.label, to: &line)
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) where !Self.reservedKeys.contains(key) {
            line += ","
            JSONText.appendString(key, to: &line)
            line += ":"
            JSONText.append(value, to: &line)
        }
        line += "}\n"
        self.output.write(line)
    }

    /// Keys written first by the handler; metadata cannot repeat them.
    private static let reservedKeys: Set<String> = ["timestamp", "level", "message", "logger"]
}

/// Where log lines are written. Each line is written whole, under a lock, so lines from
/// concurrent requests never interleave.
public struct LogOutput: Sendable {
    private let sink: @Sendable (String) -> Void

    public init(_ sink: @escaping @Sendable (String) -> Void) {
        self.sink = sink
    }

    func write(_ line: String) {
        self.sink(line)
    }

    /// The process's standard output.
    public static let standardOutput: LogOutput = {
        let lock = Mutex(())
        return LogOutput { line in
            lock.withLock { _ in
                var line = line
                line.withUTF8 { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let written = Foundation.write(1, bytes.baseAddress! + offset, bytes.count - offset)
                        if written <= 0 {
                            if written < 0 && errno == EINTR { continue }
                            return
                        }
                        offset += written
                    }
                }
            }
        }
    }()
}

/// JSON text for log values.
enum JSONText {
    /// Appends `value` as a JSON string literal: quotes, backslashes and every control
    /// character escaped, everything else (valid UTF-8 from Swift strings) as is.
    static func appendString(_ value: String, to output: inout String) {
        output.append("\"")
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output.append("\\\"")
            case "\\": output.append("\\\\")
            case "\n": output.append("\\n")
            case "\r": output.append("\\r")
            case "\t": output.append("\\t")
            case "\u{08}": output.append("\\b")
            case "\u{0C}": output.append("\\f")
            case "\u{00}"..."\u{1F}", "\u{7F}", "\u{2028}", "\u{2029}":
                let hex = String(scalar.value, radix: 16)
                output.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: output.unicodeScalars.append(scalar)
            }
        }
        output.append("\"")
    }

    static func append(_ value: Logger.Metadata.Value, to output: inout String) {
        switch value {
        case .string(let string):
            appendString(string, to: &output)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as Int: output.append(String(number))
            case let number as Int64: output.append(String(number))
            case let number as UInt64: output.append(String(number))
            case let number as Double where number.isFinite: output.append(String(number))
            case let flag as Bool: output.append(flag ? "true" : "false")
            default: appendString(convertible.description, to: &output)
            }
        case .array(let values):
            output.append("[")
            for (index, element) in values.enumerated() {
                if index > 0 { output.append(",") }
                append(element, to: &output)
            }
            output.append("]")
        case .dictionary(let dictionary):
            output.append("{")
            for (index, (key, element)) in dictionary.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { output.append(",") }
                appendString(key, to: &output)
                output.append(":")
                append(element, to: &output)
            }
            output.append("}")
        }
    }
}
