import S3
import S3Protocol

/// The S3 part of the settings, with the standard AWS variable names as fallbacks.
struct S3Settings: Sendable, Equatable {
    var endpoint: String
    var bucket: String
    var region: String
    var credentials: AWSCredentials
    var prefix: String
    var forcePathStyle: Bool
    var createBucket: Bool
    /// Values of at least this many bytes (or of unknown length, past it) go up in parts.
    var multipartThreshold: Int
    var partSize: Int
    var uploadConcurrency: Int
    /// CA certificates to trust besides the system's.
    var caFile: String?

    init(_ reader: EnvironmentReader) throws(ConfigurationError) {
        guard let bucket = reader.string("S3_BUCKET") else {
            throw ConfigurationError(variable: "S3_BUCKET", message: "required when KV_STORAGE is s3")
        }
        self.bucket = bucket
        self.region = reader.string(["S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"]) ?? "us-east-1"
        let endpoint = reader.string(["S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"])
        self.endpoint = endpoint ?? "https://s3.\(self.region).amazonaws.com"
        guard let accessKey = reader.string(["S3_ACCESS_KEY", "AWS_ACCESS_KEY_ID"]) else {
            throw ConfigurationError(variable: "S3_ACCESS_KEY", message: "required when KV_STORAGE is s3 (or set AWS_ACCESS_KEY_ID)")
        }
        guard let secretKey = reader.string(["S3_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"]) else {
            throw ConfigurationError(variable: "S3_SECRET_KEY", message: "required when KV_STORAGE is s3 (or set AWS_SECRET_ACCESS_KEY)")
        }
        self.credentials = AWSCredentials(
            accessKeyID: accessKey, secretAccessKey: secretKey,
            sessionToken: reader.string(["S3_SESSION_TOKEN", "AWS_SESSION_TOKEN"])
        )
        self.prefix = reader.string("S3_PREFIX") ?? ""
        if self.prefix.hasPrefix("/") {
            throw ConfigurationError(variable: "S3_PREFIX", message: "must not start with '/', got '\(self.prefix)'")
        }
        self.forcePathStyle = try reader.boolean("S3_FORCE_PATH_STYLE") ?? (endpoint != nil)
        self.createBucket = try reader.boolean("S3_CREATE_BUCKET") ?? false
        // S3 takes parts of 5 MiB to 5 GiB, the last one excepted.
        self.multipartThreshold = try reader.byteSize("KV_S3_MULTIPART_THRESHOLD", in: (5 << 20)...(5 << 30)) ?? (16 << 20)
        self.partSize = try reader.byteSize("KV_S3_PART_SIZE", in: (5 << 20)...(5 << 30)) ?? (8 << 20)
        self.uploadConcurrency =
            try reader.integer("KV_S3_UPLOAD_CONCURRENCY", in: 1...64, expected: "a number of parts from 1 to 64") ?? 4
        self.caFile = reader.string("S3_CA_FILE")
        if let caFile = self.caFile {
            do { try S3Configuration.checkCAFile(caFile) } catch { throw ConfigurationError(variable: "S3_CA_FILE", message: error.message) }
        }
        do {
            _ = try self.clientConfiguration()
        } catch {
            throw ConfigurationError(variable: "S3_ENDPOINT", message: error.message)
        }
    }

    func clientConfiguration() throws(S3Error) -> S3Configuration {
        var configuration = try S3Configuration(
            endpoint: self.endpoint, bucket: self.bucket, region: self.region,
            credentials: self.credentials, forcePathStyle: self.forcePathStyle
        )
        configuration.multipartThreshold = self.multipartThreshold
        configuration.partSize = self.partSize
        configuration.uploadConcurrency = self.uploadConcurrency
        configuration.caFile = self.caFile
        return configuration
    }
}
