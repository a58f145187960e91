import NIOCore
import ServerSupport
import Testing

@Suite("Trusted proxies and the client address")
struct TrustedProxiesTests {
    static func peer(_ address: String) -> SocketAddress { try! SocketAddress(ipAddress: address, port: 40000) }

    @Test("addresses and networks, v4 and v6, match by their prefix bits")
    func networks() throws {
        let trusted = try TrustedProxies(parsing: "10.0.0.0/8, 192.168.1.7,fd00::/8 , ::1")
        for address in ["10.0.0.1", "10.255.255.255", "192.168.1.7", "fd12:3456::1", "::1"] {
            #expect(trusted.contains(address), "\(address)")
        }
        for address in ["11.0.0.1", "192.168.1.8", "fe80::1", "::2", "not-an-address", ""] {
            #expect(!trusted.contains(address), "\(address)")
        }
        #expect(try TrustedProxies(parsing: "172.16.0.0/12").contains("172.31.255.1"))
        #expect(!(try TrustedProxies(parsing: "172.16.0.0/12").contains("172.32.0.1")))
        #expect(try TrustedProxies(parsing: "0.0.0.0/0").contains("8.8.8.8"))
        #expect(try TrustedProxies(parsing: "").isEmpty)
    }

    @Test("a list item that is not an address or a network is refused, naming it", arguments: ["10.0.0.0/33", "10.0.0/8", "example.com", "::1/129", "10.0.0.1/x"])
    func refused(item: String) {
        #expect(throws: TrustedProxiesError.self) { try TrustedProxies(parsing: "127.0.0.1, \(item)") }
    }

    @Test("X-Forwarded-For names the client only when the peer is trusted: the right-most hop that is not a proxy")
    func client() throws {
        let trusted = try TrustedProxies(parsing: "10.0.0.0/8")
        // From a trusted proxy: the header is believed.
        #expect(trusted.client(peer: Self.peer("10.0.0.2"), forwardedFor: ["203.0.113.7"]) == "203.0.113.7")
        // A chain: the client may have sent a made-up first hop; the right-most untrusted hop counts.
        #expect(trusted.client(peer: Self.peer("10.0.0.2"), forwardedFor: ["1.2.3.4, 203.0.113.7", "10.0.0.9"]) == "203.0.113.7")
        // Not from a trusted proxy: the header is anyone's to forge, the peer is the client.
        #expect(trusted.client(peer: Self.peer("198.51.100.1"), forwardedFor: ["203.0.113.7"]) == "198.51.100.1")
        #expect(TrustedProxies.none.client(peer: Self.peer("10.0.0.2"), forwardedFor: ["203.0.113.7"]) == "10.0.0.2")
        // No header, or a malformed hop: the peer.
        #expect(trusted.client(peer: Self.peer("10.0.0.2"), forwardedFor: []) == "10.0.0.2")
        #expect(trusted.client(peer: Self.peer("10.0.0.2"), forwardedFor: ["junk"]) == "10.0.0.2")
        #expect(trusted.client(peer: nil, forwardedFor: ["203.0.113.7"]) == nil)
    }
}
