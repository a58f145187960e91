/// A minimal XML reader for S3's responses: elements, text and the five named and numeric
/// character entities. Attributes, comments and processing instructions are skipped; S3's
/// responses need nothing more, and it avoids a dependency on libxml2 at run time.
public struct XMLElement: Sendable, Equatable {
    public var name: String
    public var children: [XMLElement] = []
    public var text: String = ""

    public init(name: String, children: [XMLElement] = [], text: String = "") {
        self.name = name
        self.children = children
        self.text = text
    }

    /// The first child named `name`.
    public func child(_ name: String) -> XMLElement? { self.children.first { $0.name == name } }
    /// Every child named `name`.
    public func children(_ name: String) -> [XMLElement] { self.children.filter { $0.name == name } }
    /// The text of the first child named `name`.
    public func value(_ name: String) -> String? { self.child(name)?.text }

    /// Parses a document and returns its root element.
    public static func parse(_ bytes: [UInt8]) throws(S3Error) -> XMLElement {
        var parser = Parser(bytes: bytes)
        return try parser.document()
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        mutating func document() throws(S3Error) -> XMLElement {
            var stack: [XMLElement] = []
            var text: [UInt8] = []
            while index < bytes.count {
                if bytes[index] != UInt8(ascii: "<") {
                    text.append(bytes[index])
                    index += 1
                    continue
                }
                guard let end = bytes[index...].firstIndex(of: UInt8(ascii: ">")) else { throw malformed("unterminated tag") }
                let tag = bytes[(index + 1)..<end]
                index = end + 1
                guard let first = tag.first else { throw malformed("empty tag") }
                if first == UInt8(ascii: "?") || first == UInt8(ascii: "!") { continue }
                if first == UInt8(ascii: "/") {
                    guard var element = stack.popLast() else { throw malformed("unbalanced closing tag") }
                    element.text = try Self.decodeEntities(text)
                    text = []
                    if stack.isEmpty { return element }
                    stack[stack.count - 1].children.append(element)
                    continue
                }
                text = []
                let selfClosing = tag.last == UInt8(ascii: "/")
                let nameBytes = tag.prefix { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "\t") && $0 != UInt8(ascii: "\n") && $0 != UInt8(ascii: "\r") }
                let element = XMLElement(name: String(decoding: nameBytes, as: UTF8.self))
                if selfClosing {
                    if stack.isEmpty { return element }
                    stack[stack.count - 1].children.append(element)
                } else {
                    stack.append(element)
                }
            }
            throw malformed("no complete root element")
        }

        private func malformed(_ reason: String) -> S3Error {
            S3Error(code: "MalformedXML", message: "the response is not valid XML: \(reason)", status: 0)
        }

        /// Decodes the entities of element text, on bytes: `&` or `;` followed by a combining
        /// mark is one `Character`, which a search by `Character` would not find.
        static func decodeEntities(_ bytes: [UInt8]) throws(S3Error) -> String {
            guard bytes.contains(UInt8(ascii: "&")) else { return String(decoding: bytes, as: UTF8.self) }
            var result: [UInt8] = []
            result.reserveCapacity(bytes.count)
            var index = 0
            while index < bytes.count {
                guard bytes[index] == UInt8(ascii: "&"), let semicolon = bytes[index...].firstIndex(of: UInt8(ascii: ";")) else {
                    result.append(bytes[index])
                    index += 1
                    continue
                }
                let entity = String(decoding: bytes[(index + 1)..<semicolon], as: UTF8.self)
                switch entity {
                case "amp": result.append(UInt8(ascii: "&"))
                case "lt": result.append(UInt8(ascii: "<"))
                case "gt": result.append(UInt8(ascii: ">"))
                case "quot": result.append(UInt8(ascii: "\""))
                case "apos": result.append(UInt8(ascii: "'"))
                default:
                    let scalar: UInt32? =
                        entity.hasPrefix("#x") ? UInt32(entity.dropFirst(2), radix: 16)
                        : entity.hasPrefix("#") ? UInt32(entity.dropFirst(), radix: 10) : nil
                    guard let scalar, let character = Unicode.Scalar(scalar) else {
                        throw S3Error(code: "MalformedXML", message: "unknown XML entity &\(entity);", status: 0)
                    }
                    result.append(contentsOf: String(character).utf8)
                }
                index = semicolon + 1
            }
            return String(decoding: result, as: UTF8.self)
        }
    }
}
