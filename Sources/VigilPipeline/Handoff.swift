import Foundation

/// Hands a non-Sendable value to exactly one other thread, which then owns it alone.
final class Handoff<Value>: @unchecked Sendable {
    // Safety: the sender never touches `value` again after handing it over.
    let value: Value
    init(_ value: Value) { self.value = value }
}
