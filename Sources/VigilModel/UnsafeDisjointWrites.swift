/// Slots that several worker threads fill at once, each only the slots of its own range,
/// plus read-only context they share. The caller keeps `slots` alive and waits for every
/// worker before reading them (`concurrentPerform` returns only then).
///
/// Unsafe: the compiler cannot check that ranges are disjoint or that `context` is only
/// read, so those two rules are this type's contract. A context may hold another
/// `UnsafeDisjointWrites` (the batch's events, lent by `withElement`): its slots are then
/// written under its own contract, each worker in its own range.
public struct UnsafeDisjointWrites<Element, Context>: @unchecked Sendable {
    // Safety: every worker writes distinct indices and only reads `context`; see the type's contract.
    @usableFromInline let slots: UnsafeMutableBufferPointer<Element>
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

    /// Lends the element of slot `index`, which must be inside the buffer, to `body`: moved out
    /// of the slot for the call and back after. A function of another module that `body` hands
    /// it to then borrows a local; handed the slot itself, it would get a copy, taken because
    /// the compiler cannot see that nothing writes the buffer during the call (a retain and a
    /// release of every reference the element holds).
    @inlinable
    public func withElement<Result>(at index: Int, _ body: (borrowing Element) -> Result) -> Result {
        assert(index >= 0 && index < slots.count, "slot \(index) is outside the \(slots.count) slots")
        let slot = slots.baseAddress! + index
        let element = slot.move()
        let result = body(element)
        slot.initialize(to: element)
        return result
    }
}
