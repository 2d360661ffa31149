import Foundation

/// A blocking, bounded hand-off between the producer thread and the writer.
final class BoundedQueue<Element>: @unchecked Sendable {
    // Safety: all state is read and written only with `condition` locked.
    private let condition = NSCondition()
    private var elements: [Element] = []
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Takes `element` over: a copy kept by the caller until after `take` could leave the
    /// taker's arrays shared, so that changing them in place would copy them whole.
    func put(_ element: consuming Element) {
        condition.lock()
        while elements.count >= capacity { condition.wait() }
        elements.append(element)
        condition.broadcast()
        condition.unlock()
    }

    func take() -> Element {
        condition.lock()
        while elements.isEmpty { condition.wait() }
        let element = elements.removeFirst()
        condition.broadcast()
        condition.unlock()
        return element
    }
}
