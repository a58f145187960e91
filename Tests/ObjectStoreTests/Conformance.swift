import Foundation
import NIOCore
import ObjectStore
import TestSupport
import Testing

/// One behaviour of the storage contract, checked against a backend.
///
/// The same cases run against every backend (see `BackendConformanceTests`); each case works
/// under its own key prefix, so backends that share a bucket across runs stay isolated.
struct ConformanceCase: Sendable, CustomTestStringConvertible {
    let name: String
    let run: @Sendable (ConformanceContext) async throws -> Void

    var testDescription: String { self.name }
}

/// What a case gets: the store, a unique prefix for its keys, and what the backend supports.
struct ConformanceContext: Sendable {
    let store: any ObjectStore
    let prefix: ObjectName
    /// Whether CopyObject honours copy-source-if-match (moto ignores it; see S3-FACTS).
    let honoursCopySourceIfMatch: Bool

    /// A name in this case's namespace, with exactly `name`'s bytes after the prefix.
    func key(_ name: String) -> ObjectName { self.prefix + ObjectName(name) }
}

func bytes(_ string: String) -> ByteBuffer { ByteBuffer(string: string) }

extension ObjectStore {
    /// Every object under `prefix`, following continuation tokens (bounded).
    func listAll(prefix: ObjectName, pageSize: Int, delimiter: ObjectName? = nil) async throws -> (keys: [ObjectName], prefixes: [ObjectName], pages: Int) {
        var keys: [ObjectName] = []
        var prefixes: [ObjectName] = []
        var token: String?
        var pages = 0
        repeat {
            let page = try await self.list(
                ListRequest(prefix: prefix, continuationToken: token, maxKeys: pageSize, delimiter: delimiter)
            )
            #expect(page.objects.count + page.commonPrefixes.count <= pageSize)
            keys += page.objects.map(\.name)
            prefixes += page.commonPrefixes
            token = page.nextContinuationToken
            pages += 1
        } while token != nil && pages < 1000
        return (keys, prefixes, pages)
    }
}
