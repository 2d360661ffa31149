/// Where hot paths write bytes (`JSONText`, `EventKey`): a byte array or a buffer.
protocol ByteSink {
    mutating func append(_ byte: UInt8)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>)
}

extension ByteSink {
    /// Appends `text`'s UTF-8.
    mutating func append(utf8 text: String) {
        var text = text
        text.withUTF8 { append($0) }
    }
}

extension Array: ByteSink where Element == UInt8 {
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) { append(contentsOf: bytes) }
}

/// Writes into a buffer sized beforehand (by adding up lengths, or to a bound on them).
/// Unsafe: a write past the buffer's end is caught only by the debug-build assertions, so the
/// writes must be exactly those that were counted.
struct UnsafeByteWriter: ByteSink {
    let buffer: UnsafeMutableBufferPointer<UInt8>
    var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    mutating func append(_ byte: UInt8) {
        assert(count < buffer.count, "UnsafeByteWriter: more bytes than were counted")
        buffer[count] = byte
        count += 1
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        assert(count + bytes.count <= buffer.count, "UnsafeByteWriter: more bytes than were counted")
        (buffer.baseAddress! + count).update(from: source, count: bytes.count)
        count += bytes.count
    }
}
