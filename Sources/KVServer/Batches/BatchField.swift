/// A top-level field of a batch body, by name.
///
/// A batch body holds exactly its own fields: a delete body that also has `items`, or a write
/// body with a misspelt `itmes`, is refused rather than half understood (a client that meant to
/// write must not have its keys deleted, and the OpenAPI document's `oneOf` of the two bodies
/// holds only if neither takes the other's fields).
struct BatchField: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }

    init(_ name: String) { self.stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }

    /// The body's fields, after checking it has no field but `allowed`.
    static func container(of decoder: any Decoder, allowed: Set<String>) throws -> KeyedDecodingContainer<BatchField> {
        let container = try decoder.container(keyedBy: BatchField.self)
        if let unknown = container.allKeys.first(where: { !allowed.contains($0.stringValue) }) {
            let fields = allowed.sorted().joined(separator: ", ")
            throw DecodingError.dataCorrupted(.init(codingPath: [unknown], debugDescription: "not a field of this batch (its fields: \(fields))"))
        }
        return container
    }
}
