import Crypto
import Foundation
import NIOHTTP1
import S3Protocol
import TestSupport
import Testing

/// Conditional PUTs on the own S3 server decide one winner however many race: the check and
/// the write are one step in the storage, not a read followed by a write.
@Suite("Conditional writes race on the own S3 server")
struct ConditionalWriteRaceTests {
    static let writers = 64

    /// Sends `writers` PUTs of `key` at once, each with its own body and `headers`; returns each
    /// writer's status and the bodies of those answered 200.
    static func race(_ server: OwnS3Server.Running, key: String, headers: [(String, String)]) async throws -> (statuses: [Int], winners: [[UInt8]]) {
        try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for writer in 0..<Self.writers {
                group.addTask {
                    let body = Array("writer \(writer)".utf8)
                    let answer = try await SignedRequest(method: .PUT, path: "/tests/\(key)", headers: headers, body: body).send(to: server)
                    return (answer.status, body)
                }
            }
            var statuses: [Int] = []
            var winners: [[UInt8]] = []
            for try await (status, body) in group {
                statuses.append(status)
                if status == 200 { winners.append(body) }
            }
            return (statuses, winners)
        }
    }

    @Test("DeleteBucket waits for a PUT still receiving its body, then finds the bucket not empty", arguments: ServerStorage.allCases)
    func deleteBucketWaitsForWrite(storage: ServerStorage) async throws {
        try await storage.withServer { server in
            var signed = SigV4Signer.Request(
                method: "PUT", encodedPath: "/tests/slow", headers: [("host", "127.0.0.1:\(server.port)"), ("content-length", "10")],
                payloadHash: "UNSIGNED-PAYLOAD"
            )
            SigV4Signer(credentials: OwnS3Server.credentials, region: "us-east-1").sign(&signed, date: Date())
            let head = "PUT /tests/slow HTTP/1.1\r\n" + signed.headers.map { "\($0.name): \($0.value)\r\n" }.joined() + "\r\n"
            let port = server.port
            // The body's second half waits for the test's signal (bounded), so the PUT is in
            // flight for as long as the test needs, however loaded the machine is.
            let release = DispatchSemaphore(value: 0)
            let put = Task {
                try await RawConnection.offThePool {
                    let connection = try RawConnection(port: port)
                    connection.send(head + "01234")
                    _ = release.wait(timeout: .now() + 60)
                    connection.send("56789")
                    // The connection stays open after the answer; read for a bounded while.
                    return connection.readToEnd(timeout: .milliseconds(1500))
                }
            }
            /// Polls (bounded) until `count` requests are in flight, the asking one included.
            func awaitInFlight(_ count: Double) async throws -> Bool {
                for _ in 0..<500 {
                    let metrics = try await HTTPClientRequestFactory.send(HTTPClientRequestFactory.plain(server.endpoint + "/_s3kv/metrics")).text
                    let inFlight = prometheusSample("s3kv_http_requests_in_flight", in: metrics) ?? 0
                    if inFlight >= count { return true }
                    try await Task.sleep(for: .milliseconds(10))
                }
                return false
            }
            try #require(try await awaitInFlight(2), "the PUT never reached the server")
            // The PUT is still receiving its body: the deletion must wait for it rather than
            // remove the bucket under it, then see its object.
            let deletion = Task { try await SignedRequest(method: .DELETE, path: "/tests").send(to: server) }
            // Once the deletion is waiting too (a deletion that does not wait has answered by
            // then, and the poll gives up), the PUT may finish.
            _ = try await awaitInFlight(3)
            release.signal()
            let deleted = try await deletion.value
            let answer = try await put.value
            #expect(answer.text.hasPrefix("HTTP/1.1 200"), "\(answer.text)")
            #expect(deleted.status == 409 && deleted.code == "BucketNotEmpty", "\(deleted.status) \(deleted.text)")
            #expect(try await SignedRequest(method: .GET, path: "/tests/slow").send(to: server).body == Array("0123456789".utf8))
        }
    }

    @Test("DeleteBucket racing PUTs: the bucket is deleted and no PUT was acknowledged, or it stays with every acknowledged object", arguments: ServerStorage.allCases)
    func deleteBucketRace(storage: ServerStorage) async throws {
        try await storage.withServer { server in
            var outcomes: [String: Int] = [:]
            for round in 0..<12 {
                let bucket = "doomed-\(round)"
                #expect(try await SignedRequest(method: .PUT, path: "/\(bucket)").send(to: server).status == 200)
                let (deleted, puts) = try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
                    for writer in 0..<8 {
                        group.addTask {
                            // Spread the writes around the deletion, which comes first in some
                            // rounds and among the writes in others.
                            try await Task.sleep(for: .milliseconds(1 + writer))
                            let answer = try await SignedRequest(method: .PUT, path: "/\(bucket)/object-\(writer)", body: Array("w\(writer)".utf8)).send(to: server)
                            return (writer, answer.status)
                        }
                    }
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(round % 2 == 0 ? 0 : 4))
                        return (-1, try await SignedRequest(method: .DELETE, path: "/\(bucket)").send(to: server).status)
                    }
                    var deleted = 0
                    var puts: [Int: Int] = [:]
                    for try await (writer, status) in group {
                        if writer < 0 { deleted = status ?? 0 } else { puts[writer] = status }
                    }
                    return (deleted, puts)
                }
                let acknowledged = puts.filter { $0.value == 200 }.map(\.key)
                outcomes["delete \(deleted), \(acknowledged.isEmpty ? "no" : "some") PUT acknowledged", default: 0] += 1
                if deleted == 204 {
                    #expect(acknowledged.isEmpty, "PUTs \(acknowledged) were acknowledged into a bucket that was deleted")
                    #expect(try await SignedRequest(method: .HEAD, path: "/\(bucket)").send(to: server).status == 404)
                } else {
                    #expect(deleted == 409, "DeleteBucket answered \(deleted)")
                    for writer in acknowledged {
                        let read = try await SignedRequest(method: .GET, path: "/\(bucket)/object-\(writer)").send(to: server)
                        #expect(read.status == 200 && read.body == Array("w\(writer)".utf8), "an acknowledged object is gone")
                    }
                }
                for status in puts.values { #expect([200, 404, 409].contains(status), "a PUT answered \(status)") }
            }
            print("DeleteBucket race outcomes: \(outcomes.sorted { $0.key < $1.key })")
        }
    }

    @Test("64 concurrent If-None-Match: * PUTs of one name: exactly one 200, the rest 412", arguments: ServerStorage.allCases)
    func createRace(storage: ServerStorage) async throws {
        try await storage.withServer { server in
            let (statuses, winners) = try await Self.race(server, key: "race/created", headers: [("if-none-match", "*")])
            #expect(statuses.filter { $0 == 200 }.count == 1)
            #expect(statuses.filter { $0 == 412 }.count == Self.writers - 1, "\(statuses.sorted())")
            let read = try await SignedRequest(method: .GET, path: "/tests/race/created").send(to: server)
            #expect(read.status == 200 && winners == [read.body], "the object is the winner's body")
        }
    }

    @Test("64 concurrent If-Match PUTs on one ETag: exactly one 200, the rest 412", arguments: ServerStorage.allCases)
    func swapRace(storage: ServerStorage) async throws {
        try await storage.withServer { server in
            let first = try await SignedRequest(method: .PUT, path: "/tests/race/swapped", body: Array("first".utf8)).send(to: server)
            let etag = try #require(first.headers.first(name: "etag"))
            let (statuses, winners) = try await Self.race(server, key: "race/swapped", headers: [("if-match", etag)])
            #expect(statuses.filter { $0 == 200 }.count == 1)
            #expect(statuses.filter { $0 == 412 }.count == Self.writers - 1, "\(statuses.sorted())")
            let read = try await SignedRequest(method: .GET, path: "/tests/race/swapped").send(to: server)
            #expect(read.status == 200 && winners == [read.body], "the object is the winner's body")
            let winner = try #require(winners.first)
            #expect(read.headers.first(name: "etag") == "\"\(Insecure.MD5.hash(data: winner).map { String(format: "%02x", $0) }.joined())\"")
        }
    }
}
