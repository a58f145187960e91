import NIOHTTP1
/// Versions: with history on, every kept version is listed and readable; with it off, only the
/// current one is, and an earlier one is 404 version_not_found.
enum VersionChecks {
    static let all: [Check] = [versions]

    static let versions = Check("versions", "?versions lists the readable versions newest first; ?version=N reads exactly version N") { context in
        let key = context.key("versions")
        var written: [Int: [UInt8]] = [:]
        for text in ["v-one", "v-two", "v-three"] {
            let put = try await context.client.send(.PUT, KVClient.path(key), body: Array(text.utf8)).expect(200)
            written[try ValueChecks.versionOf(put)] = Array(text.utf8)
        }
        let newest = try require(written.keys.max(), "no version was written")
        let listing = try await context.client.send(.GET, KVClient.path(key, query: "versions")).expect(200)
        guard let items = listing.json?["versions"] as? [[String: Any]] else {
            throw CheckFailure("\(listing.summary) without a versions list")
        }
        let listed = items.compactMap { jsonInteger($0["version"]) }
        try require(listed.count == items.count && listed == listed.sorted(by: >), "?versions lists \(listed), not distinct versions newest first")
        try require(listed.first == newest, "?versions starts at \(listed.first.map(String.init) ?? "nothing"), not the current version \(newest)")
        for version in listed where written[version] != nil {
            let read = try await context.client.send(.GET, KVClient.path(key, query: "version=\(version)")).expect(200, "?version=\(version)")
            try require(read.body == written[version], "?version=\(version) returned another version's bytes")
        }
        if listed.count == 1 {
            try await context.client.send(.GET, KVClient.path(key, query: "version=\(newest - 1)"))
                .expectError(404, "version_not_found", "?version=\(newest - 1) with history off")
            return "history off"
        }
        try require(listed.count >= min(written.count, 2), "?versions lists \(listed)")
        return "history on, \(listed.count) versions readable"
    }
}

