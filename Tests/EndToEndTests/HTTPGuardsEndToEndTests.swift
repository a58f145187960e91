import Foundation
import NIOHTTP1
import TestSupport
import Testing

/// Requests that never reach the router are still answered (or closed), logged and counted:
/// against the real binary, with raw sockets.
@Suite(.serialized) struct HTTPGuardsEndToEndTests {
    @Test("malformed requests, a missing Host, trickled heads, cut and stalled bodies: a 4xx or a closed connection, never a 500")
    func malformedAndSlowRequests() async throws {
        let server = try ServerProcess(environment: [
            "KV_STORAGE": "memory", "KV_HEADER_TIMEOUT": "1s", "KV_REQUEST_TIMEOUT": "2s", "KV_IDLE_TIMEOUT": "2s",
        ])
        func exchange(_ request: String, halfClose: Bool = false, timeout: Duration = .seconds(5)) throws -> (text: String, closed: Bool) {
            let connection = try RawConnection(port: server.port)
            connection.send(request)
            if halfClose { connection.halfClose() }
            return connection.readToEnd(timeout: timeout)
        }

        let noHost = try exchange("GET /health HTTP/1.1\r\n\r\n")
        #expect(noHost.text.hasPrefix("HTTP/1.1 400") && noHost.text.contains(#""code":"missing_host""#) && noHost.closed)
        let garbage = try exchange("GARBAGE\r\n\r\n")
        #expect(garbage.text.hasPrefix("HTTP/1.1 400") && garbage.text.contains(#""code":"malformed_request""#) && garbage.closed)

        // `closed` means the server closed the connection before the read's own timeout: that
        // alone shows the timeout worked, with no wall-clock bound to flake under load.
        let trickled = try exchange("GET /health HTTP/1.1\r\nHo")
        #expect(trickled.closed && trickled.text.isEmpty, "a head that stops arriving is closed by the header timeout")

        let short = try exchange("PUT /kv/x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", halfClose: true)
        #expect(short.text.hasPrefix("HTTP/1.1 400") && short.text.contains(#""code":"malformed_body""#), "\(short.text)")
        let badChunk = try exchange("PUT /kv/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n")
        #expect(badChunk.text.hasPrefix("HTTP/1.1 400") && badChunk.text.contains(#""code":"malformed_body""#), "\(badChunk.text)")
        let stalled = try exchange("PUT /kv/x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", timeout: .seconds(6))
        #expect(stalled.closed, "a body that stops arriving is closed by the idle timeout")
        // A body that keeps trickling in (a byte every 0.5 s, inside the idle timeout) is cut off
        // at the request deadline with a 408.
        // It stops sending once the answer is there: bytes sent to a socket the server has
        // closed would reset the connection and could discard the answer before it is read.
        let trickle = try RawConnection(port: server.port)
        trickle.send("PUT /kv/x HTTP/1.1\r\nHost: a\r\nContent-Length: 40\r\n\r\n")
        var trickled408 = (text: "", closed: false)
        for _ in 0..<30 where trickled408.text.isEmpty && !trickled408.closed {
            trickle.send("a")
            trickled408 = trickle.readToEnd(timeout: .milliseconds(500))
        }
        #expect(trickled408.text.hasPrefix("HTTP/1.1 408") && trickled408.text.contains(#""code":"request_timeout""#), "\(trickled408.text)")

        // A client that waits for 100 Continue before its body gets it as soon as the head is in.
        let continued = try RawConnection(port: server.port)
        continued.send("PUT /kv/continued HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        // Each answer is read as soon as it is whole; the bounds are generous for a loaded machine.
        let interim = continued.readResponse(timeout: .seconds(30)) ?? ""
        #expect(interim == "HTTP/1.1 100 Continue\r\n\r\n", "\(interim)")
        continued.send("hello")
        let continuedAnswer = continued.readResponse(timeout: .seconds(60)) ?? ""
        #expect(continuedAnswer.hasPrefix("HTTP/1.1 200") && continuedAnswer.contains(#""size":5"#), "\(continuedAnswer)")

        // Nothing was stored, the server still serves, and each refusal was counted.
        #expect(try await HTTP.request("\(server.baseURL)/kv/x", method: .GET).status == 404)
        let metrics = try await HTTP.request("\(server.baseURL)/metrics", method: .GET).text
        #expect(metrics.contains(#"s3kv_http_rejected_total{reason="missing_host"} 1"#))
        #expect(metrics.contains(#"s3kv_http_rejected_total{reason="malformed_request"}"#))
        // The trickled head; the body trickle's connection, left open after its 408, may add one.
        #expect(metrics.contains(#"s3kv_http_rejected_total{reason="header_timeout"}"#))
        #expect(metrics.contains(#"status="400""#) && metrics.contains(#"status="408""#), "routed refusals are in the request metrics")
        #expect(server.stop(signal: SIGTERM) == 0)
        #expect(server.log.contains("refused a request before routing"))
    }

    @Test("a client that stops reading a large value is disconnected after the idle timeout; one that reads slowly gets all of it")
    func stalledReader() async throws {
        try await withTemporaryDirectory { directory in
            // The embedded store streams the value from a file: what a stalled reader would hold open.
            let server = try ServerProcess(environment: ["KV_STORAGE": "local", "KV_DATA_DIR": directory, "KV_IDLE_TIMEOUT": "3s"])
            let value = (0..<(16 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 131) }
            #expect(try await HTTP.request("\(server.baseURL)/kv/large", method: .PUT, body: value).status == 200)
            let (port, request) = (server.port, "GET /kv/large HTTP/1.1\r\nHost: a\r\n\r\n")

            // Takes nothing for 10 s, over three idle timeouts: the server gives up, and what is
            // left to read ends well short of the value.
            let stalled = try await RawConnection.offThePool { () throws -> (count: Int, closed: Bool) in
                let connection = try RawConnection(port: port, receiveBuffer: 16 << 10)
                connection.send(request)
                Thread.sleep(forTimeInterval: 10)
                return connection.readCount(limit: 32 << 20, timeout: .seconds(30))
            }
            #expect(stalled.closed && stalled.count < value.count, "\(stalled)")

            // Takes 1 MiB, then pauses 0.1 s: slower than the disk, never stalled for a timeout
            // (which is generous, as the test process shares its cores with other suites).
            let slow = try await RawConnection.offThePool { () throws -> (count: Int, closed: Bool) in
                let connection = try RawConnection(port: port, receiveBuffer: 64 << 10)
                connection.send(request)
                var total = (count: 0, closed: false)
                for _ in 0..<400 where !total.closed && total.count <= value.count {
                    let read = connection.readCount(limit: 1 << 20, timeout: .seconds(10))
                    total = (total.count + read.count, read.closed)
                    Thread.sleep(forTimeInterval: 0.1)
                }
                return total
            }
            #expect(slow.count > value.count, "the whole value and its head arrived, not cut off: \(slow)")

            let metrics = try await HTTP.request("\(server.baseURL)/metrics", method: .GET).text
            #expect(metrics.contains(#"s3kv_http_rejected_total{reason="stalled_reader"} 1"#))
            #expect(server.stop(signal: SIGTERM) == 0)
            #expect(server.log.contains("closed a connection whose client stopped reading its response"))
        }
    }
}
