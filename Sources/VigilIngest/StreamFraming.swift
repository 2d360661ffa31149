import CZlib
import VigilModel

/// Splits a pushed byte stream (an HTTP body arriving in chunks) into line records, keeping
/// only the unfinished line between chunks. Lines follow the file framer's rules: CR LF or
/// LF, blank lines skipped, invalid UTF-8 and over-long lines rejected.
public struct LineSplitter {
    private var carry: [UInt8] = []
    private var nextLine = 1
    private var overlong = false

    public init() {}

    /// Appends the complete lines in `chunk` (plus what was carried) to `items`.
    public mutating func push(_ chunk: UnsafeRawBufferPointer, into items: inout [RecordFramer.Item]) {
        var start = 0
        for index in 0..<chunk.count where chunk[index] == 0x0A {
            if carry.isEmpty {
                emit(UnsafeRawBufferPointer(rebasing: chunk[start..<index]), into: &items)
            } else {
                carry.append(contentsOf: chunk[start..<index])
                let line = carry
                carry.removeAll(keepingCapacity: true)
                line.withUnsafeBytes { emit($0, into: &items) }
            }
            start = index + 1
        }
        if start < chunk.count {
            if carry.count + (chunk.count - start) > RecordFramer.maximumRecordBytes {
                if !overlong {
                    items.append(.rejected(RejectedRecord(line: nextLine, reason: "record longer than \(RecordFramer.maximumRecordBytes) bytes", raw: "")))
                }
                overlong = true
                carry.removeAll()
            } else {
                carry.append(contentsOf: chunk[start...])
            }
        }
    }

    /// Appends the last line, if the stream did not end with a newline.
    public mutating func finish(into items: inout [RecordFramer.Item]) {
        guard !carry.isEmpty else { return }
        let line = carry
        carry.removeAll()
        line.withUnsafeBytes { emit($0, into: &items) }
    }

    private mutating func emit(_ bytes: UnsafeRawBufferPointer, into items: inout [RecordFramer.Item]) {
        let line = nextLine
        nextLine += 1
        if overlong {
            overlong = false
            return
        }
        var end = bytes.count
        if end > 0, bytes[end - 1] == 0x0D { end -= 1 }
        let content = UnsafeRawBufferPointer(rebasing: bytes[0..<end])
        if content.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
        if let text = String(validating: content, as: UTF8.self) {
            items.append(.record(RawRecord(line: line, text: text)))
        } else {
            items.append(.rejected(RejectedRecord(line: line, reason: "invalid UTF-8", raw: String(decoding: content, as: UTF8.self))))
        }
    }
}

/// Streaming gzip decompression of pushed chunks (`Content-Encoding: gzip`).
public final class GzipStreamDecoder {
    private var stream = z_stream()
    private var output = [UInt8](repeating: 0, count: 256 * 1024)
    private var ended = false

    public init() throws(IngestError) {
        guard czlib_inflate_init_gzip(&stream) == Z_OK else { throw IngestError(.gzip, "cannot start gzip decompression") }
    }

    deinit { inflateEnd(&stream) }

    /// Decompresses `chunk`, calling `body` with each piece of output.
    public func push(_ chunk: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard chunk.count > 0 else { return }
        var input = Array(chunk)
        try input.withUnsafeMutableBytes { inputBytes in
            stream.next_in = inputBytes.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_in = uInt(inputBytes.count)
            while stream.avail_in > 0 {
                if ended {
                    // Another gzip member follows.
                    inflateReset(&stream)
                    ended = false
                }
                var result: Int32 = Z_OK
                let produced = output.withUnsafeMutableBytes { outputBytes -> Int in
                    stream.next_out = outputBytes.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(outputBytes.count)
                    result = inflate(&stream, Z_NO_FLUSH)
                    return outputBytes.count - Int(stream.avail_out)
                }
                guard result == Z_OK || result == Z_STREAM_END || result == Z_BUF_ERROR else {
                    throw IngestError(.gzip, "the body is not valid gzip data (zlib error \(result))")
                }
                if produced > 0 { try output.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
                if result == Z_STREAM_END { ended = true }
                if result == Z_BUF_ERROR && produced == 0 { break }
            }
        }
    }

    /// Throws when the stream ended in the middle of a gzip member.
    public func finish() throws(IngestError) {
        if !ended { throw IngestError(.gzip, "the gzip body is truncated") }
    }
}
