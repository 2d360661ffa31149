extension UnsafeMutableBufferPointer {
    /// A new buffer holding a copy of `array`'s elements. Its `count` is the array's; its start
    /// is never nil (an empty array still gets one allocated slot), so `deallocate()` always
    /// frees it. Deinitialize it before deallocating when `Element` is not trivial.
    static func copy(_ array: [Element]) -> UnsafeMutableBufferPointer<Element> {
        let start = UnsafeMutablePointer<Element>.allocate(capacity: Swift.max(array.count, 1))
        array.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { start.initialize(from: base, count: source.count) }
        }
        return UnsafeMutableBufferPointer(start: start, count: array.count)
    }
}
