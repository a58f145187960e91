import ObjectStore
import Crypto
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import WireFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded store's large bodies: one immutable file each, in `blobs/` beside the database.
///
/// A body too large to keep in a database row is written under a temporary name, fsync'd,
/// renamed to its final name and the directory fsync'd, and only then referenced by a committed
/// row. So a body is on disk before any reader can find it, and a crash at any point leaves at
/// most an unreferenced file; never a partial value. Files are never changed once written: a copy
/// is a hard link, and a replaced or deleted body's file is unlinked after the change commits (a
/// reader that has it open keeps reading it).
///
/// A writer holds an exclusive `flock` on its file from creation until its row has committed (or
/// the write failed and the file is gone). The lock dies with the process, so an unreferenced
/// file nobody holds is a crash's leftover, and ``collectOrphans(referenced:)`` removes it at the
/// next start of any process sharing the directory, however young it is.
///
/// Every system call runs on NIO's blocking thread pool, never on an event loop or in Swift's
/// cooperative pool; the bytes move in chunks, so memory stays bounded whatever the size.
struct BlobFiles: Sendable {
    /// Bytes gathered from a stream before one write to the file. Like the read chunk, kept under
    /// s3kv's mmap threshold (4 MiB), so the buffers are reused heap memory, not fresh pages
    /// faulted in for every chunk.
    static let writeChunkBytes = 1 << 20
    /// The capacity of each of the two buffers a write gathers chunks in: a chunk's worth and room
    /// for the last piece of the body that completes it.
    static let writeBufferBytes = writeChunkBytes + writeChunkBytes / 4
    /// Bytes read from the file per chunk of a streamed body.
    static let readChunkBytes = 1 << 20

    /// `blobs/` in the data directory; both are created if missing.
    let directory: String
    private let pool: NIOThreadPool
    /// Where the pool's results are delivered, for work started ahead of being awaited.
    private let loops: any EventLoopGroup

    init(directory: String, pool: NIOThreadPool = .singleton, loops: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.directory = URL(fileURLWithPath: directory).appendingPathComponent("blobs").path
        self.pool = pool
        self.loops = loops
        try Self.createDirectory(self.directory)
    }

    /// Creates `path` and its parents, or fails with a message an operator can act on (a file in
    /// the way, a permission) rather than Foundation's error dump.
    private static func createDirectory(_ path: String) throws(ObjectStoreError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            guard mkdir(prefix, 0o755) != 0 else { continue }
            let code = errno
            var status = stat()
            if code == EEXIST, stat(prefix, &status) == 0, status.st_mode & S_IFMT == S_IFDIR { continue }
            if code == EEXIST { throw ObjectStoreError(.backendFailure, "\(prefix) exists and is not a directory") }
            throw Self.failure(code, "create the directory \(prefix)")
        }
    }

    /// A new file's name: random, so names from several processes sharing the directory never meet.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    func path(_ id: String) -> String { self.directory + "/" + id }

    private func partialPath(_ id: String) -> String { self.path(id) + ".partial" }

    // MARK: Writing

    /// Writes `head` and then the rest of `body` to a new file, durably, under a new name.
    ///
    /// - Parameter entityTag: the tag the writer brings; without one, the tag is the bytes' MD5,
    ///   computed as they are written (a core's worth of hashing a writer with a tag is spared).
    /// - Returns: the file, still locked: the caller commits the row naming it, then lets it go.
    /// - Throws: what the body throws, ``ObjectStoreError/Code/invalidArgument`` past `limit`
    ///   bytes, ``ObjectStoreError/Code/insufficientStorage`` on a full disk; nothing is left behind.
    func store(head: ByteBuffer, rest body: inout ObjectBody.Iterator, limit: Int, entityTag: ETag?) async throws -> WrittenBlob {
        let id = Self.newID()
        let partial = self.partialPath(id)
        let descriptor = try await self.pool.runIfActive {
            let descriptor = try Self.check(open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644), "create \(partial)")
            flock(descriptor, LOCK_EX)
            return descriptor
        }
        let tagger = ChunkTagger(given: entityTag)
        let loop = self.loops.any()
        // A chunk is hashed and written on the pool, the two at once, while the next arrives; the
        // previous chunk's work is awaited before the next starts, so chunks land (and are hashed)
        // in order and at most two are held. The two buffers take turns, so no chunk faults in
        // fresh memory.
        var inFlight: EventLoopFuture<Void>?
        var writing: ByteBuffer?
        var size = 0
        do {
            var pending = head
            while true {
                let chunk = try await body.next()
                if let chunk { pending.writeImmutableBuffer(chunk) }
                guard chunk == nil || pending.readableBytes >= Self.writeChunkBytes else { continue }
                size += pending.readableBytes
                guard size <= limit else {
                    throw ObjectStoreError(.invalidArgument, "the body is more than \(limit) bytes; this store holds at most \(limit)")
                }
                try await inFlight?.get()
                let bytes = pending
                let written = self.pool.runIfActive(eventLoop: loop) { try Self.writeAll(bytes, to: descriptor, path: partial) }
                if tagger.isHashing {
                    inFlight = self.pool.runIfActive(eventLoop: loop) { tagger.update(bytes) }.and(written).map { _ in }
                } else {
                    inFlight = written
                }
                if chunk == nil { break }
                pending = writing ?? ByteBuffer()
                pending.clear(minimumCapacity: Self.writeBufferBytes)
                writing = bytes
            }
            try await inFlight?.get()
            inFlight = nil
            let final = self.path(id)
            let directory = self.directory
            try await self.pool.runIfActive {
                try Self.check(fsync(descriptor), "fsync \(partial)")
                try Self.check(rename(partial, final), "rename \(partial)")
                try Self.syncDirectory(directory)
            }
        } catch {
            // A write still running must finish before its descriptor is closed (and its number reused).
            try? await inFlight?.get()
            try? await self.pool.runIfActive {
                unlink(partial)
                close(descriptor)
            }
            throw error
        }
        return WrittenBlob(id: id, size: size, etag: tagger.etag(), descriptor: descriptor)
    }

    /// Makes `id`'s file also reachable as a new id (a copy that moves no bytes), durably.
    ///
    /// Blocking; called inside a write transaction, which keeps the source referenced meanwhile.
    func hardLink(_ id: String) throws -> String {
        let copy = Self.newID()
        try Self.check(link(self.path(id), self.path(copy)), "link \(self.path(id))")
        try Self.syncDirectory(self.directory)
        return copy
    }

    /// Removes files no longer referenced; a missing file is fine.
    func remove(_ ids: [String]) async {
        guard !ids.isEmpty else { return }
        let paths = ids.map(self.path)
        try? await self.pool.runIfActive {
            for path in paths { unlink(path) }
        }
    }

    /// Removes what a crash left: files no row references and no live writer holds.
    ///
    /// Blocking; call it inside a write transaction, so no link or commit is in flight meanwhile.
    func collectOrphans(referenced: Set<String>) throws -> Int {
        var removed = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: self.directory) where !referenced.contains(name) {
            let path = self.path(name)
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            // A writer still at work holds its file's lock; a dead one's died with it.
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { continue }
            if unlink(path) == 0 { removed += 1 }
        }
        return removed
    }

    // MARK: Reading

    /// Opens `id`'s file for reading, or nil when it is gone (replaced and unlinked since its row
    /// was read; the caller reads the row again).
    func openFile(_ id: String) async throws -> OpenBlob? {
        let path = self.path(id)
        return try await self.pool.runIfActive { () throws -> OpenBlob? in
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            if descriptor < 0, errno == ENOENT { return nil }
            return OpenBlob(descriptor: try Self.check(descriptor, "open \(path)"), path: path)
        }
    }

    /// The bytes of `range` of an open file, read a chunk at a time as the consumer asks.
    func body(of file: OpenBlob, range: ByteRange) -> ObjectBody {
        ObjectBody(BlobChunks(file: file, range: range, pool: self.pool, loop: self.loops.any()), length: range.count)
    }

    /// The whole of an open file, as one buffer.
    func read(_ file: OpenBlob, size: Int) async throws -> ByteBuffer {
        guard size > 0 else { return ByteBuffer() }
        return try await self.body(of: file, range: ByteRange(first: 0, last: size - 1)).collect(upTo: size)
    }

    // MARK: System calls

    @discardableResult
    private static func check(_ result: CInt, _ what: @autoclosure () -> String) throws -> CInt {
        guard result < 0 else { return result }
        throw self.failure(errno, what())
    }

    static func failure(_ code: CInt, _ what: String) -> ObjectStoreError {
        let reason = String(cString: strerror(code))
        if code == ENOSPC || code == EDQUOT {
            return ObjectStoreError(.insufficientStorage, "the embedded store's disk is full: \(what): \(reason)")
        }
        return ObjectStoreError(.backendFailure, "the embedded store could not \(what): \(reason)")
    }

    private static func writeAll(_ buffer: ByteBuffer, to descriptor: CInt, path: String) throws {
        try buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw self.failure(errno, "write \(path)")
                }
                offset += written
            }
        }
    }

    /// Makes a rename or link in the directory durable.
    private static func syncDirectory(_ path: String) throws {
        let descriptor = try self.check(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), "open \(path)")
        defer { close(descriptor) }
        try self.check(fsync(descriptor), "fsync \(path)")
    }
}

/// A file just written and renamed into place, its lock still held; released (closed) once the
/// row naming it has committed or the write has been given up.
final class WrittenBlob: Sendable {
    let id: String
    let size: Int
    let etag: ETag
    private let descriptor: CInt

    init(id: String, size: Int, etag: ETag, descriptor: CInt) {
        self.id = id
        self.size = size
        self.etag = etag
        self.descriptor = descriptor
    }

    deinit { close(self.descriptor) }
}

/// A blob file open for reading; closed when the last reader lets go of it.
final class OpenBlob: Sendable {
    let descriptor: CInt
    let path: String

    init(descriptor: CInt, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(self.descriptor) }
}

/// A file's entity tag: the writer's, or the MD5 of the bytes, computed as the chunks are written,
/// one chunk at a time on the pool (each update follows the previous chunk's, so the lock is never
/// contended).
private final class ChunkTagger: Sendable {
    private let given: ETag?
    private let hasher = Mutex(Insecure.MD5())

    init(given: ETag?) { self.given = given }

    /// Whether the tag is the bytes' MD5, so each chunk must be hashed.
    var isHashing: Bool { self.given == nil }

    func update(_ bytes: ByteBuffer) {
        self.hasher.withLock { hasher in bytes.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) } }
    }

    func etag() -> ETag {
        self.given ?? ETag("\"\(Hex.encode(self.hasher.withLock { $0.finalize() }))\"")
    }
}

/// A range of a blob file as a sequence of chunks, each read on the thread pool: the next chunk is
/// read while the consumer sends the last, so the disk and the socket work at once, and no more
/// than one chunk is read ahead of the consumer.
private struct BlobChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let file: OpenBlob
    let range: ByteRange
    let pool: NIOThreadPool
    let loop: any EventLoop

    func makeAsyncIterator() -> Iterator { Iterator(chunks: self, offset: self.range.first) }

    struct Iterator: AsyncIteratorProtocol {
        let chunks: BlobChunks
        /// Where the next chunk to be read starts.
        var offset: Int
        var ahead: EventLoopFuture<ByteBuffer>?

        mutating func next() async throws -> ByteBuffer? {
            guard let pending = self.ahead ?? self.read() else { return nil }
            self.ahead = nil
            let chunk = try await pending.get()
            // A file shorter than its row says fails the body's length check above us.
            guard chunk.readableBytes > 0 else { return nil }
            self.ahead = self.read()
            return chunk
        }

        /// Starts reading the chunk at ``offset``; nil past the range's end.
        private mutating func read() -> EventLoopFuture<ByteBuffer>? {
            let end = self.chunks.range.last + 1
            guard self.offset < end else { return nil }
            let (file, offset, count) = (self.chunks.file, self.offset, Swift.min(BlobFiles.readChunkBytes, end - self.offset))
            self.offset += count
            return self.chunks.pool.runIfActive(eventLoop: self.chunks.loop) { () throws -> ByteBuffer in
                var buffer = ByteBuffer()
                var filled = 0
                try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { target in
                    while filled < count {
                        let read = pread(file.descriptor, target.baseAddress! + filled, count - filled, off_t(offset + filled))
                        if read < 0, errno == EINTR { continue }
                        if read < 0 { throw BlobFiles.failure(errno, "read \(file.path)") }
                        if read == 0 { break }
                        filled += read
                    }
                    return filled
                }
                return buffer
            }
        }
    }
}
