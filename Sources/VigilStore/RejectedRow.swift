import VigilModel
import Glibc

/// A record an import could not use, with its line and why.
public struct RejectedRow: Sendable {
    public var importID: Int64
    public var record: RejectedRecord
}
