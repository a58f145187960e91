import Foundation
public import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The proxies whose `X-Forwarded-For` is believed: addresses and networks (`10.0.0.0/8`,
/// `127.0.0.1`, `fd00::/8`).
///
/// Anyone can send `X-Forwarded-For`, so the header names the client only when the connection
/// comes from a proxy the operator listed; then the client is the right-most address in it that
/// is not itself a trusted proxy (each proxy appends the address it saw). Otherwise the client is
/// the connection's peer.
public struct TrustedProxies: Sendable, Equatable {
    struct Network: Sendable, Equatable {
        var bytes: [UInt8]
        var prefixLength: Int

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == self.bytes.count else { return false }
            var remaining = self.prefixLength
            for (a, b) in zip(address, self.bytes) where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if a & mask != b & mask { return false }
                remaining -= bits
            }
            return true
        }
    }

    let networks: [Network]

    /// No proxy is trusted: the client is always the peer.
    public static let none = TrustedProxies(networks: [])

    init(networks: [Network]) {
        self.networks = networks
    }

    /// Parses a comma-separated list of addresses and networks in CIDR notation.
    public init(parsing list: String) throws(TrustedProxiesError) {
        var networks: [Network] = []
        for item in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: "/", maxSplits: 1).map(String.init)
            guard let bytes = Self.bytes(ofAddress: parts[0]) else { throw TrustedProxiesError(item: item) }
            let length = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
            guard let length, (0...(bytes.count * 8)).contains(length) else { throw TrustedProxiesError(item: item) }
            networks.append(Network(bytes: bytes, prefixLength: length))
        }
        self.networks = networks
    }

    public var isEmpty: Bool { self.networks.isEmpty }

    /// Whether `address` (text, v4 or v6) is a trusted proxy.
    public func contains(_ address: String) -> Bool {
        guard let bytes = Self.bytes(ofAddress: address) else { return false }
        return self.networks.contains { $0.contains(bytes) }
    }

    /// The client's address for the log: the peer's, or when the peer is a trusted proxy, the
    /// right-most `X-Forwarded-For` address that is not one.
    public func client(peer: SocketAddress?, forwardedFor: [String]) -> String? {
        guard let peer = peer?.ipAddress else { return nil }
        guard self.contains(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() {
            guard Self.bytes(ofAddress: hop) != nil else { return peer }  // a malformed hop: stop believing the header
            if !self.contains(hop) { return hop }
        }
        return hops.first ?? peer
    }

    /// The address's bytes (4 or 16), or nil when it is not an IP address.
    static func bytes(ofAddress text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

/// An item of a trusted-proxy list that is neither an address nor a network.
public struct TrustedProxiesError: Error, Sendable, CustomStringConvertible {
    public let item: String
    public var description: String { "'\(self.item)' is not an IP address or a network such as 10.0.0.0/8" }
}
