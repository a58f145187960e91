/// The value of an unlabelled sample (`name value`) in a Prometheus text exposition; nil when the
/// exposition has none.
public func prometheusSample(_ name: String, in exposition: String) -> Double? {
    exposition.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
}
