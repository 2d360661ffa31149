/// Slots that several worker threads fill at once, each only the slots of its own range,
/// plus read-only context they share. The caller keeps `slots` alive and waits for every
/// worker before reading them (`concurrentPerform` returns only then).
///
/// Unsafe: the compiler cannot check that ranges are disjoint or that `context` is only
/// read, so those two rules are this type's contract.
public struct UnsafeDisjointWrites<Element, Context>: @unchecked Sendable {
    // Safety: every worker writes distinct indices and only reads `context`; see the type's contract.
    private let slots: UnsafeMutableBufferPointer<Element>
    public let context: Context

    public init(slots: UnsafeMutableBufferPointer<Element>, context: Context) {
        self.slots = slots
        self.context = context
    }

    /// Writes slot `index`, which must be inside the buffer (checked in debug builds).
    public func write(_ value: Element, at index: Int) {
        assert(index >= 0 && index < slots.count, "slot \(index) is outside the \(slots.count) slots")
        slots[index] = value
    }
}
