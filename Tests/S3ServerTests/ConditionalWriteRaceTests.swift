import Crypto
import Foundation
import NIOHTTP1
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
