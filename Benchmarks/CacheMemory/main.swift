// Measures what the value cache holds in memory against what it accounts for, in a process of
// its own so that nothing else allocates meanwhile. Prints one JSON object:
//   {"entries": N, "value_bytes": B, "accounted_bytes": A, "heap_growth_bytes": H}
// where H is the growth of malloc's in-use bytes (mallinfo2) while N values of B bytes were
// written through a store that keeps nothing itself, so the cache holds the only copy.
//
// Usage: cache-memory [entries] [value bytes] [cache capacity bytes]
import CHeapStats
import KVStore
import NIOCore
import ObjectStore

/// A backend that accepts every write and keeps nothing: the cache is all that holds values.
struct DiscardingObjectStore: ObjectStore {
    var limits: ObjectStoreLimits { ObjectStoreLimits(maximumObjectBytes: 1 << 30) }
    func put(_ name: ObjectName, body: ByteBuffer, options: PutOptions) async throws -> ETag { ETag.md5(of: body.readableBytesView) }
    func get(_ name: ObjectName, ifNoneMatch: ETagMatch?) async throws -> StoredObject { throw ObjectStoreError.notFound(name) }
    func head(_ name: ObjectName, ifNoneMatch: ETagMatch?) async throws -> ObjectInfo { throw ObjectStoreError.notFound(name) }
    func delete(_ name: ObjectName, ifMatch: ETag?) async throws {}
    func copy(from source: ObjectName, to destination: ObjectName, options: CopyOptions) async throws -> ETag {
        throw ObjectStoreError.notFound(source)
    }
    func list(_ request: ListRequest) async throws -> ListPage { ListPage(objects: []) }
    func deleteMany(_ names: [ObjectName]) async throws -> DeleteManyResult { DeleteManyResult(deleted: names) }
    func probe() async throws {}
}

func heapInUse() -> Int { Int(heap_stats_in_use()) }

let arguments = CommandLine.arguments
let entries = arguments.count > 1 ? Int(arguments[1]) ?? 5000 : 5000
let valueBytes = arguments.count > 2 ? Int(arguments[2]) ?? 10 : 10
let capacity = arguments.count > 3 ? Int(arguments[3]) ?? (1 << 40) : 1 << 40
let store = KeyValueStore(
    objects: DiscardingObjectStore(),
    configuration: KVStoreConfiguration(cache: .init(capacityBytes: capacity, maxValueBytes: 1 << 30, maxStaleness: .seconds(3600)))
)
// Warm up the allocator and the store's own structures, then measure.
_ = try await store.put(try Key("warm-up"), value: ByteBuffer(repeating: 1, count: valueBytes))
let before = heapInUse()
for index in 0..<entries {
    // A key parsed from a request, as the server makes one: its own storage.
    let key = try Key("users/\(index)/profile")
    // Each value arrives as a slice of a larger receive buffer, as a request body does.
    var received = ByteBufferAllocator().buffer(capacity: 4096)
    received.writeRepeatingByte(7, count: valueBytes + 100)
    let value = received.getSlice(at: 50, length: valueBytes)!
    _ = try await store.put(key, value: value)
}
let growth = heapInUse() - before
let accounted = store.cache.statistics.bytes
print(
    "{\"entries\": \(store.cache.statistics.entries), \"value_bytes\": \(valueBytes), \"capacity_bytes\": \(capacity), "
        + "\"accounted_bytes\": \(accounted), \"heap_growth_bytes\": \(growth)}"
)
