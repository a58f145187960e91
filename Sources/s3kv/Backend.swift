import ObjectStore

/// The object store selected by the settings, with a description for the start-up log line.
struct Backend: CustomStringConvertible {
    var objects: any ObjectStore
    var description: String

    static func open(_ settings: Settings) throws -> Backend {
        switch settings.storage {
        case .memory:
            return Backend(objects: MemoryObjectStore(), description: "memory (nothing survives a restart)")
        case .local:
            let store = try SQLiteObjectStore(directory: settings.dataDirectory)
            return Backend(objects: store, description: "local (\(settings.dataDirectory))")
        case .s3:
            throw ConfigurationError(variable: "KV_STORAGE", message: "the s3 backend is not part of this build yet")
        }
    }
}
