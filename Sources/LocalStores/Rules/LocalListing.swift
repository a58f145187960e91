import ObjectStore
import Foundation

/// Where a local listing resumes: a key, and whether that key itself is included.
struct ListPosition: Equatable {
    var key: [UInt8]
    var inclusive: Bool
}

/// S3's ListObjectsV2 semantics (prefix, start-after, delimiter, page size, continuation) for the
/// local backends, over any source of ascending keys. One implementation keeps the memory and
/// SQLite backends in exact agreement.
enum LocalListing {
    /// Reads up to `limit` objects with keys at or after `from` and before `until` (exclusive),
    /// in ascending byte order.
    typealias Fetch = (_ from: ListPosition, _ until: [UInt8]?, _ limit: Int) throws -> [ObjectSummary]

    static func page(_ request: ListRequest, fetch: Fetch) throws -> ListPage {
        let prefix = Array(request.prefix.utf8)
        let delimiter = request.delimiter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        let until = successor(of: prefix)
        let maxKeys = request.clampedMaxKeys

        var position = ListPosition(key: prefix, inclusive: true)
        if let token = request.continuationToken {
            position = max(position, try ContinuationToken.decode(token))
        } else if let startAfter = request.startAfter {
            position = max(position, ListPosition(key: Array(startAfter.utf8), inclusive: false))
        }

        var objects: [ObjectSummary] = []
        var commonPrefixes: [ObjectName] = []
        var exhausted = false
        fill: while objects.count + commonPrefixes.count < maxKeys {
            let batch = try fetch(position, until, maxKeys - objects.count - commonPrefixes.count)
            if batch.isEmpty {
                exhausted = true
                break
            }
            for object in batch {
                let key = Array(object.name.utf8)
                if let delimiter, let end = firstRange(of: delimiter, in: key, from: prefix.count) {
                    let common = Array(key[..<end])
                    // The delimiter is whole UTF-8, so the prefix ends on a scalar boundary.
                    commonPrefixes.append(ObjectName(String(decoding: common, as: UTF8.self)))
                    // Everything under this common prefix is summarised by it: skip past it.
                    guard let next = successor(of: common) else {
                        exhausted = true
                        break fill
                    }
                    position = ListPosition(key: next, inclusive: true)
                    continue fill
                }
                objects.append(object)
                position = ListPosition(key: key, inclusive: false)
            }
        }
        var token: String?
        if !exhausted, try !fetch(position, until, 1).isEmpty {
            token = ContinuationToken.encode(position)
        }
        return ListPage(objects: objects, commonPrefixes: commonPrefixes, nextContinuationToken: token)
    }

    /// The smallest byte string greater than every string starting with `prefix`, or nil when
    /// there is none (empty prefix, or all 0xFF).
    static func successor(of prefix: [UInt8]) -> [UInt8]? {
        var bytes = prefix
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return bytes
            }
            bytes.removeLast()
        }
        return nil
    }

    private static func firstRange(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        for index in start...(haystack.count - needle.count) where haystack[index..<index + needle.count].elementsEqual(needle) {
            return index + needle.count
        }
        return nil
    }

    private static func max(_ a: ListPosition, _ b: ListPosition) -> ListPosition {
        if a.key == b.key { return a.inclusive ? b : a }
        return a.key.lexicographicallyPrecedes(b.key) ? b : a
    }
}

/// The opaque continuation token of the local backends: a version tag, the inclusion flag and
/// the resume key, base64url-encoded. Anything else is rejected as an invalid argument.
enum ContinuationToken {
    static func encode(_ position: ListPosition) -> String {
        let raw = [UInt8]("1".utf8) + [position.inclusive ? 0x69 : 0x65] + position.key
        return Data(raw).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ token: String) throws -> ListPosition {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), data.count >= 2, data.first == UInt8(ascii: "1"),
            data[data.startIndex + 1] == 0x69 || data[data.startIndex + 1] == 0x65
        else {
            throw ObjectStoreError(.invalidArgument, "the continuation token is not valid")
        }
        let bytes = [UInt8](data)
        return ListPosition(key: Array(bytes[2...]), inclusive: bytes[1] == 0x69)
    }
}
