/// A Sigma logsource: which product, category and service an event belongs to.
///
/// A rule applies to an event when every part the rule names equals the event's part.
public struct LogSource: Hashable, Sendable {
    public var product: String?
    public var category: String?
    public var service: String?

    public init(product: String? = nil, category: String? = nil, service: String? = nil) {
        self.product = product?.lowercased()
        self.category = category?.lowercased()
        self.service = service?.lowercased()
    }

    /// True when every part this (rule) logsource names matches `event`'s part.
    public func covers(_ event: LogSource) -> Bool {
        (product == nil || product == event.product)
            && (category == nil || category == event.category)
            && (service == nil || service == event.service)
    }

    /// `product/category/service`, with `-` for parts that are not set.
    public var description: String {
        [product, category, service].map { $0 ?? "-" }.joined(separator: "/")
    }
}
