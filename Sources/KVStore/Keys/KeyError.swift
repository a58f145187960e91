/// Why bytes are not a valid ``Key``; the message names the rule that was broken.
public struct KeyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rule a key broke.
    public enum Rule: String, Sendable, CaseIterable {
        case empty = "key_empty"
        case tooLong = "key_too_long"
        case invalidUTF8 = "key_invalid_utf8"
        case controlCharacter = "key_control_character"
        case leadingSlash = "key_leading_slash"
        case trailingSlash = "key_trailing_slash"
        case emptySegment = "key_empty_segment"
        case dotSegment = "key_dot_segment"
    }

    public let rule: Rule

    public init(_ rule: Rule) {
        self.rule = rule
    }

    /// A stable, machine-readable code for clients.
    public var code: String { self.rule.rawValue }

    public var message: String {
        switch self.rule {
        case .empty: "the key must not be empty"
        case .tooLong: "the key must be at most \(Key.maximumBytes) bytes of UTF-8"
        case .invalidUTF8: "the key must be valid UTF-8"
        case .controlCharacter: "the key must not contain control characters"
        case .leadingSlash: "the key must not start with '/'"
        case .trailingSlash: "the key must not end with '/'"
        case .emptySegment: "the key must not contain '//'"
        case .dotSegment: "the key must not contain a '.' or '..' segment"
        }
    }

    public var description: String { self.message }
}
