import ServerSupport

/// `TLS_CERT_FILE` and `TLS_KEY_FILE`, which go together; both servers read them.
struct TLSFiles: Sendable, Equatable {
    var certificate: String
    var key: String

    init?(_ reader: EnvironmentReader) throws(ConfigurationError) {
        switch (reader.string("TLS_CERT_FILE"), reader.string("TLS_KEY_FILE")) {
        case (nil, nil): return nil
        case (let certificate?, let key?): (self.certificate, self.key) = (certificate, key)
        case (nil, _): throw ConfigurationError(variable: "TLS_CERT_FILE", message: "required with TLS_KEY_FILE")
        case (_, nil): throw ConfigurationError(variable: "TLS_KEY_FILE", message: "required with TLS_CERT_FILE")
        }
    }

    /// The pair, read and checked.
    func load() throws(TLSCertificatesError) -> TLSCertificates {
        try TLSCertificates(certificatePath: self.certificate, keyPath: self.key)
    }
}
