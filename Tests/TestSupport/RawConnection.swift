import Foundation

/// A TCP connection to a loopback port that sends and reads raw bytes, for requests no HTTP
/// client would send: malformed, half-sent, trickled, or half-closed.
public final class RawConnection {
    private let socket: Int32

    /// - Parameter receiveBuffer: the socket's receive buffer, set before connecting so the
    ///   window the server sees is that small; nil for the system's.
    public init(port: Int, receiveBuffer: Int? = nil) throws {
        self.socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if var size = receiveBuffer.map(Int32.init) {
            setsockopt(self.socket, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(self.socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            close(self.socket)
            throw RawConnectionError(port: port)
        }
    }

    deinit { close(self.socket) }

    public func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Foundation.send(self.socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Sends all of `bytes`, waiting while the server's receive window is full.
    public func send(bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Foundation.send(self.socket, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    /// Closes the sending side only, as a client that has sent all it will.
    public func halfClose() {
        shutdown(self.socket, Int32(SHUT_WR))
    }

    /// Reads one response with a `Content-Length` body, leaving the connection open; nil when
    /// the server closes it or `timeout` passes first.
    public func readResponse(timeout: Duration) -> String? {
        var received: [UInt8] = []
        var complete = false
        _ = self.receive(timeout: timeout) { piece in
            received += piece
            complete = Self.isWholeResponse(String(decoding: received, as: UTF8.self))
            return complete ? 0 : .max
        }
        return complete ? String(decoding: received, as: UTF8.self) : nil
    }

    /// Whether `text` holds a whole response head and as much body as its `Content-Length` says.
    private static func isWholeResponse(_ text: String) -> Bool {
        guard let end = text.range(of: "\r\n\r\n") else { return false }
        let head = text[..<end.lowerBound].lowercased()
        let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        return text.utf8.count - text[..<end.upperBound].utf8.count >= length
    }

    /// Reads and counts bytes, at most `limit` of them, until the server closes the connection,
    /// the limit is reached or `timeout` passes; returns the count and whether the server closed.
    public func readCount(limit: Int, timeout: Duration) -> (count: Int, closed: Bool) {
        var total = 0
        let closed = self.receive(timeout: timeout) { piece in
            total += piece.count
            return limit - total
        }
        return (total, closed)
    }

    /// Reads until the server closes the connection or `timeout` passes; returns what arrived and
    /// whether the server closed.
    public func readToEnd(timeout: Duration) -> (text: String, closed: Bool) {
        var received: [UInt8] = []
        let closed = self.receive(timeout: timeout) { piece in
            received += piece
            return .max
        }
        return (String(decoding: received, as: UTF8.self), closed)
    }

    /// Receives until `take` wants no more, the server closes the connection or `timeout` passes.
    /// `take` is handed each piece as it arrives (an empty one first) and answers how many more
    /// bytes it takes at most; 0 ends the read.
    ///
    /// - Returns: whether the server closed the connection.
    private func receive(timeout: Duration, _ take: (ArraySlice<UInt8>) -> Int) -> Bool {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 65536)
        var wanted = take([])
        while wanted > 0, ContinuousClock.now < deadline {
            var descriptor = pollfd(fd: self.socket, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 50) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(self.socket, $0.baseAddress, min($0.count, wanted), 0) }
            if count <= 0 { return true }
            wanted = take(buffer[0..<count])
        }
        return false
    }
}

/// No server accepted the connection.
public struct RawConnectionError: Error, CustomStringConvertible {
    public let port: Int
    public var description: String { "cannot connect to 127.0.0.1:\(self.port)" }
}

extension RawConnection {
    /// Runs `exchange`, which blocks on the socket, on a thread of its own rather than on one of
    /// Swift concurrency's few shared threads, which a server in this process needs to answer.
    public static func offThePool<T: Sendable>(_ exchange: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try exchange() }) }.start()
        }
    }
}
