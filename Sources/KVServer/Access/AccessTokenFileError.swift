/// A token file that cannot be used; the description names the file and the entry.
public struct AccessTokenFileError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public var description: String { "\(self.path) \(self.message)" }
}
