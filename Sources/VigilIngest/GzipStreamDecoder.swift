import CZlib
import VigilModel

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
