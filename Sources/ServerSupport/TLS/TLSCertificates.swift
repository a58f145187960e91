import NIOConcurrencyHelpers
public import NIOSSL

/// A server's certificate and key (`TLS_CERT_FILE`, `TLS_KEY_FILE`), read again on reload.
///
/// New connections use the context in force when they arrive; connections already open keep
/// theirs. A reload that fails (a missing file, a key that does not match) keeps the old pair,
/// so a half-written rotation never takes HTTPS down.
public final class TLSCertificates: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let context: NIOLockedValueBox<NIOSSLContext>

    /// Reads the pair, or throws a ``TLSCertificatesError`` naming what is wrong.
    public init(certificatePath: String, keyPath: String) throws(TLSCertificatesError) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.context = NIOLockedValueBox(try Self.makeContext(certificatePath: certificatePath, keyPath: keyPath))
    }

    /// The context for a new connection.
    public var current: NIOSSLContext { self.context.withLockedValue { $0 } }

    /// Reads the files again; on failure the pair in use stays.
    public func reload() throws(TLSCertificatesError) {
        let context = try Self.makeContext(certificatePath: self.certificatePath, keyPath: self.keyPath)
        self.context.withLockedValue { $0 = context }
    }

    private static func makeContext(certificatePath: String, keyPath: String) throws(TLSCertificatesError) -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw TLSCertificatesError(message: "TLS_CERT_FILE \(certificatePath) is not a readable PEM certificate chain (\(error))")
        }
        guard !chain.isEmpty else { throw TLSCertificatesError(message: "TLS_CERT_FILE \(certificatePath) holds no certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw TLSCertificatesError(message: "TLS_KEY_FILE \(keyPath) is not a readable PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        do {
            // BoringSSL checks here that the key is the certificate's.
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSCertificatesError(message: "TLS_CERT_FILE and TLS_KEY_FILE do not make a usable pair (\(error))")
        }
    }
}
