/// Writes XML documents as S3 does: a declaration, elements in the order given, text escaped.
///
/// Escaping works on Unicode scalars, never on `Character`s: a `<` followed by a combining mark
/// is one `Character` that is not equal to `"<"`, and would otherwise pass unescaped.
public struct XMLWriter: Sendable {
    public private(set) var text: String

    /// Starts a document with the XML declaration.
    public init() {
        self.text = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
    }

    /// Writes an element with children; `namespace` becomes its `xmlns` attribute.
    public mutating func element(_ name: String, namespace: String? = nil, _ children: (inout XMLWriter) -> Void) {
        self.text += "<\(name)"
        if let namespace { self.text += #" xmlns=""# + namespace + #"""# }
        self.text += ">"
        children(&self)
        self.text += "</\(name)>"
    }

    /// Writes an element holding `value` as text.
    public mutating func element(_ name: String, _ value: String) {
        self.text += "<\(name)>"
        Self.escape(value, into: &self.text)
        self.text += "</\(name)>"
    }

    /// Writes escaped text inside the current element.
    public mutating func text(_ value: String) {
        Self.escape(value, into: &self.text)
    }

    /// Writes an element when `value` is present.
    public mutating func element(_ name: String, ifPresent value: String?) {
        if let value { self.element(name, value) }
    }

    /// The document's UTF-8 bytes.
    public var bytes: [UInt8] { Array(self.text.utf8) }

    /// Appends `text` with `&`, `<`, `>`, `"`, `'` and carriage returns escaped.
    public static func escape(_ text: String, into output: inout String) {
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&apos;"
            case "\r": output += "&#13;"
            default: output.unicodeScalars.append(scalar)
            }
        }
    }

    /// `text` escaped for an element body.
    public static func escape(_ text: String) -> String {
        var output = ""
        Self.escape(text, into: &output)
        return output
    }
}
