/// Raw memory for tables that hot paths read through plain pointers (no copies, no reference
/// counting, which threads sharing one rule set would contend on). Every buffer it hands out is
/// freed together when the arena goes away: the object that owns the arena owns the buffers.
///
/// Unsafe: a buffer must not outlive its arena, and it is freed without being deinitialized,
/// so it may hold only plain values (checked in debug builds).
struct UnsafeBufferArena: ~Copyable {
    private var allocations: [UnsafeMutableRawPointer] = []

    init() {}

    deinit {
        for allocation in allocations { allocation.deallocate() }
    }

    /// A buffer holding a copy of `array`. Its start is never nil (an empty array still gets
    /// one allocated slot).
    mutating func copy<Element>(_ array: [Element]) -> UnsafeMutableBufferPointer<Element> {
        assert(_isPOD(Element.self), "\(Element.self) holds references; the arena frees memory without deinitializing it")
        let start = UnsafeMutablePointer<Element>.allocate(capacity: Swift.max(array.count, 1))
        array.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { start.initialize(from: base, count: source.count) }
        }
        allocations.append(UnsafeMutableRawPointer(start))
        return UnsafeMutableBufferPointer(start: start, count: array.count)
    }
}
