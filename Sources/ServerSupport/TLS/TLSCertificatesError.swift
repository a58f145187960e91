/// A certificate or key that cannot be served.
public struct TLSCertificatesError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { self.message }
}
