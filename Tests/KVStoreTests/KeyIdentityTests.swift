import Foundation
import KVStore
import NIOCore
import ObjectStore
import PropertyBased
import TestSupport
import Testing

/// A key is its bytes, on every backend and in every part of the store: rules, cache, locks,
/// listing, the expiry index and history. Keys come from ``HostileText``: NFC/NFD pairs, lone
/// combining marks beside `/` and `.`, scalars of every UTF-8 length.
@Suite struct KeyIdentityTests {
    /// The key rules stated on bytes, independently of ``Key``: what a key must be.
    static func isValidKey(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty, bytes.count <= Key.maximumBytes, let text = String(validating: bytes, as: UTF8.self) else { return false }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) { return false }
        let segments = bytes.split(separator: 0x2F, omittingEmptySubsequences: false)
        return !segments.contains { $0.isEmpty || Array($0) == [0x2E] || Array($0) == [0x2E, 0x2E] }
    }

    @Test("property: a key is valid exactly when its bytes obey the rules, and keeps exactly its bytes")
    func rulesOnBytes() async {
        await propertyCheck(count: 500, input: HostileText.name(pieces: 1...10)) { text in
            let bytes = Array(text.utf8)
            let key = try? Key(utf8: bytes)
            #expect((key != nil) == Self.isValidKey(bytes), "\(bytes)")
            if let key { #expect(Array(key.utf8) == bytes) }
        }
    }

    @Test("property: the 512-byte limit counts bytes, wherever a multi-byte scalar falls")
    func limitInBytes() async {
        await propertyCheck(count: 200, input: HostileText.nearLimit(Key.maximumBytes)) { text in
            let key = try? Key(text)
            #expect((key != nil) == Self.isValidKey(Array(text.utf8)), "\(text.utf8.count) bytes")
        }
    }

    @Test("canonically equivalent keys are different keys: equality, hashing and order use bytes")
    func equivalenceIsNotIdentity() throws {
        let composed = try Key("x\u{E9}")
        let decomposed = try Key("xe\u{301}")
        #expect(composed.rawValue == decomposed.rawValue, "Swift calls the texts equal")
        #expect(composed != decomposed)
        #expect(Set([composed, decomposed]).count == 2)
        #expect(decomposed < composed)  // "e" (0x65) sorts before 0xC3
        // '/' then a combining mark is a segment boundary: these break the rules.
        #expect(throws: KeyError(.emptySegment)) { try Key("a//\u{301}b") }
        #expect(throws: KeyError(.dotSegment)) { try Key("a/../\u{301}b") }
        #expect(throws: KeyError(.trailingSlash)) { try Key("a\u{301}/") }
        #expect(throws: KeyError(.leadingSlash)) { try Key("/\u{301}a") }
    }

    @Test("property: distinct byte strings are distinct keys with their own values, cached and cold", arguments: TestBackend.all)
    func distinctKeysKeepTheirValues(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            await propertyCheck(count: 10, input: HostileText.names(2...8)) { names in
                let base = "p\(UUID().uuidString.prefix(8))/"
                let keys = names.compactMap { try? Key(base + $0) }
                let store = KeyValueStore(objects: objects)
                for (index, key) in keys.enumerated() {
                    _ = try await store.put(key, value: bytes("value \(index)"))
                }
                let cold = KeyValueStore(objects: objects)
                for (index, key) in keys.enumerated() {
                    #expect(try await store.get(key).text == "value \(index)", "cached \(Array(key.utf8))")
                    #expect(try await cold.get(key).text == "value \(index)", "from the backend \(Array(key.utf8))")
                    #expect(try await cold.head(key).version == 1)
                }
                // A listing returns exactly the keys written, in byte order, each once.
                let sorted = keys.sorted()
                let prefix = ObjectName(base)
                for limit in [1, 3, 1000] {
                    let listed = try await ListingTests.walk(store, KeyListQuery(prefix: prefix, limit: limit))
                    #expect(listed.keys == sorted.map(\.rawValue), "limit \(limit)")
                    #expect(zip(listed.keys, sorted).allSatisfy { Array($0.0.utf8) == Array($0.1.utf8) }, "limit \(limit)")
                }
                // From any key on: exactly the keys at or after it, by bytes.
                if let start = sorted.dropFirst(sorted.count / 2).first {
                    let listed = try await ListingTests.walk(store, KeyListQuery(prefix: prefix, start: start.objectName, limit: 2))
                    #expect(listed.keys.map { Array($0.utf8) } == sorted.filter { !($0 < start) }.map { Array($0.utf8) })
                }
                for key in keys { try await store.delete(key) }
            }
        }
    }

    @Test("the probes of the review: a key's cached value is never another key's; listing strips by bytes", arguments: TestBackend.all)
    func reviewProbes(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let store = KeyValueStore(objects: objects)
            // PUT /kv/x%C3%A9 AAAA, PUT /kv/xe%CC%81 BBBB, GET /kv/x%C3%A9 answered BBBB from the cache.
            _ = try await store.put(try Key("x\u{E9}"), value: bytes("AAAA"))
            _ = try await store.put(try Key("xe\u{301}"), value: bytes("BBBB"))
            #expect(try await store.get(try Key("x\u{E9}")).text == "AAAA")
            #expect(try await store.get(try Key("xe\u{301}")).text == "BBBB")

            // PUT e%CC%81 then DELETE %C3%A9 crashed the memory store.
            _ = try await store.put(try Key("e\u{301}"), value: bytes("nfd"))
            await expectCode(.notFound) { try await store.delete(try Key("\u{E9}")) }
            #expect(try await store.get(try Key("e\u{301}")).text == "nfd")

            // After PUT %CC%81zz1 and zz1, ?start=zz listed zz1 twice and ?prefix=%CC%81 nothing.
            _ = try await store.put(try Key("\u{301}zz1"), value: bytes("mark"))
            _ = try await store.put(try Key("zz1"), value: bytes("plain"))
            let fromZZ = try await ListingTests.walk(store, KeyListQuery(start: "zz"))
            #expect(fromZZ.keys.map { Array($0.utf8) } == [Array("zz1".utf8), Array("\u{301}zz1".utf8)])
            let marked = try await ListingTests.walk(store, KeyListQuery(prefix: "\u{301}"))
            #expect(marked.keys.map { Array($0.utf8) } == [Array("\u{301}zz1".utf8)])
            let grouped = try await ListingTests.walk(store, KeyListQuery(prefix: "x", delimiter: "\u{301}"))
            #expect(grouped.prefixes.map { Array($0.utf8) } == [Array("xe\u{301}".utf8)])
            #expect(grouped.keys.map { Array($0.utf8) } == [Array("x\u{E9}".utf8)])
        }
    }

    @Test("the expiry index and the version history keep a key's exact bytes", arguments: TestBackend.all)
    func indexAndHistoryByBytes(_ backend: TestBackend) async throws {
        try await backend.withObjects { objects in
            let clock = ManualClock()
            let configuration = KVStoreConfiguration(versionHistory: 3, sweepSettleTime: .seconds(1))
            let store = KeyValueStore(objects: objects, configuration: configuration, clock: clock.storeClock)
            let marked = try Key("\u{301}k")  // its index entry is expiry/<ms>/ followed by a combining mark
            let twin = try Key("k")
            _ = try await store.put(marked, value: bytes("expiring"), ttl: TimeToLive(milliseconds: 1000))
            _ = try await store.put(twin, value: bytes("stays"))
            clock.advance(.seconds(3))
            let report = try await ExpirySweeper(store: store).sweep()
            #expect(report.reclaimed == 1 && report.stale == 0 && report.failed == 0)
            await expectError(.notFound) { try await objects.head(BucketLayout.valueObject(for: marked), ifNoneMatch: nil) }
            #expect(try await store.get(twin).text == "stays")

            // History of NFC and NFD spellings of one text stays apart.
            let nfc = try Key("h\u{E9}")
            let nfd = try Key("he\u{301}")
            for round in 1...3 {
                _ = try await store.put(nfc, value: bytes("nfc \(round)"))
                _ = try await store.put(nfd, value: bytes("nfd \(round)"))
            }
            #expect(try await store.versions(of: nfc).map(\.version) == [3, 2, 1])
            #expect(try await store.get(nfd, version: 2).text == "nfd 2")
            #expect(try await store.get(nfc, version: 1).text == "nfc 1")
        }
    }
}
