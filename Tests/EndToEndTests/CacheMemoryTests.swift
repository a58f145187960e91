import Foundation
import TestSupport
import Testing

/// `KV_CACHE_BYTES` bounds memory: the value cache, filled far past its capacity in a process of
/// its own (`cache-memory`, so nothing else allocates meanwhile), holds no more heap than its
/// capacity, and its accounting covers what it holds. Values arrive as slices of 4 KiB receive
/// buffers, which the cache must not pin.
@Suite struct CacheMemoryTests {
    struct Measurement: Decodable {
        var entries: Int
        var accounted_bytes: Int
        var heap_growth_bytes: Int
    }

    static var binary: URL { ServerProcess.binary.deletingLastPathComponent().appendingPathComponent("cache-memory") }

    static func measure(entries: Int, valueBytes: Int, capacity: Int) throws -> Measurement {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = [String(entries), String(valueBytes), String(capacity)]
        // One malloc arena, so the in-use count is the whole process's.
        process.environment = ["MALLOC_ARENA_MAX": "1"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        return try JSONDecoder().decode(Measurement.self, from: data)
    }

    @Test("a full cache holds at most its capacity in heap, and accounts for what it holds", arguments: [10, 200, 4000, 60000])
    func boundedByCapacity(_ valueBytes: Int) throws {
        let capacity = 8 << 20
        let measurement = try Self.measure(entries: 40000, valueBytes: valueBytes, capacity: capacity)
        #expect(measurement.entries > 16)
        #expect(measurement.accounted_bytes <= capacity)
        #expect(measurement.heap_growth_bytes <= capacity + capacity / 50, "heap grew \(measurement.heap_growth_bytes) for a capacity of \(capacity)")
        // Small values are charged more than they measurably cost (fixed overhead is rounded up);
        // never much less.
        #expect(Double(measurement.accounted_bytes) >= 0.95 * Double(measurement.heap_growth_bytes), "\(measurement)")
    }

    @Test("5,000 cached 10-byte values are charged what they hold, within a tenth")
    func smallValuesAccounted() throws {
        let measurement = try Self.measure(entries: 5000, valueBytes: 10, capacity: 1 << 40)
        let ratio = Double(measurement.accounted_bytes) / Double(measurement.heap_growth_bytes)
        #expect(ratio >= 0.9 && ratio <= 1.5, "accounted \(measurement.accounted_bytes), heap grew \(measurement.heap_growth_bytes)")
    }
}
