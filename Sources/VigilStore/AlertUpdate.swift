import VigilModel

/// A change to one or more alerts; nil leaves a field as it is.
public struct AlertUpdate: Sendable {
    public static let statuses = ["new", "in_progress", "resolved"]
    public static let classifications = ["true_positive", "false_positive", "informational_expected_activity"]

    /// The one vocabulary of statuses and classifications, for filters and updates alike, on
    /// the CLI and over HTTP: `in-progress` and `in_progress` both name `in_progress`. Nil for
    /// a word that is not in `vocabulary`.
    public static func canonical(_ word: String, in vocabulary: [String]) -> String? {
        let canonical = String(word.map { $0 == "-" ? "_" : $0 })
        return vocabulary.contains(canonical) ? canonical : nil
    }

    public var status: String?
    public var classification: String?
    public var determination: String?
    public var assignedTo: String?
    public var comment: String?

    public init(status: String? = nil, classification: String? = nil, determination: String? = nil, assignedTo: String? = nil, comment: String? = nil) {
        self.status = status
        self.classification = classification
        self.determination = determination
        self.assignedTo = assignedTo
        self.comment = comment
    }

    public var isEmpty: Bool { status == nil && classification == nil && determination == nil && assignedTo == nil && comment == nil }
}
