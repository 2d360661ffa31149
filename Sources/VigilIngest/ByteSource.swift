import CZlib

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads an input's bytes in large chunks: a file, stdin (`-`), transparently gunzipped when
/// the data starts with the gzip magic bytes.
public final class ByteSource {
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private var inflater: Inflater?
    private var peeked: [UInt8] = []
    /// The path as given (`-` for stdin).
    public let path: String
    /// Bytes read from the file so far (compressed bytes for gzip), for progress.
    public private(set) var bytesRead: Int64 = 0
    /// The file's size, when it is a regular file.
    public private(set) var totalBytes: Int64?

    /// Opens `path` (`-` is stdin).
    public init(path: String) throws(IngestError) {
        self.path = path
        if path == "-" {
            descriptor = STDIN_FILENO
            ownsDescriptor = false
        } else {
            descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else {
                throw IngestError(.io, "cannot open \(path): \(String(cString: strerror(errno))). Check the path and its permissions.")
            }
            ownsDescriptor = true
            var info = stat()
            if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG { totalBytes = Int64(info.st_size) }
        }
        var magic = [UInt8](repeating: 0, count: 2)
        let count = try readRaw(into: &magic, offset: 0, count: 2)
        peeked = Array(magic[0..<count])
        if count == 2, magic[0] == 0x1F, magic[1] == 0x8B {
            inflater = try Inflater(path: path)
        }
    }

    /// Reads from bytes already in memory (an HTTP body, say). With `decompress` false, bytes
    /// that look like gzip are read as they are: a body that was gunzipped within its size
    /// limit is never inflated a second time, past it.
    public init(bytes: [UInt8], name: String, decompress: Bool = true) throws(IngestError) {
        path = name
        descriptor = -1
        ownsDescriptor = false
        memory = bytes
        totalBytes = Int64(bytes.count)
        if decompress, bytes.count >= 2, bytes[0] == 0x1F, bytes[1] == 0x8B { inflater = try Inflater(path: name) }
    }

    private var memory: [UInt8]?
    private var memoryOffset = 0

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    /// Fills up to `count` bytes of `buffer` from `offset`; returns 0 at end of input.
    public func read(into buffer: inout [UInt8], offset: Int, count: Int) throws(IngestError) -> Int {
        if let inflater {
            return try inflater.inflate(into: &buffer, offset: offset, count: count) { compressed throws(IngestError) in
                try self.readCompressed(into: &compressed)
            }
        }
        return try readPlain(into: &buffer, offset: offset, count: count)
    }

    private func readPlain(into buffer: inout [UInt8], offset: Int, count: Int) throws(IngestError) -> Int {
        if !peeked.isEmpty {
            let take = min(count, peeked.count)
            buffer.replaceSubrange(offset..<(offset + take), with: peeked[0..<take])
            peeked.removeFirst(take)
            return take
        }
        return try readRaw(into: &buffer, offset: offset, count: count)
    }

    private func readCompressed(into buffer: inout [UInt8]) throws(IngestError) -> Int {
        try readPlain(into: &buffer, offset: 0, count: buffer.count)
    }

    private func readRaw(into buffer: inout [UInt8], offset: Int, count: Int) throws(IngestError) -> Int {
        if let memory {
            let take = min(count, memory.count - memoryOffset)
            buffer.replaceSubrange(offset..<(offset + take), with: memory[memoryOffset..<(memoryOffset + take)])
            memoryOffset += take
            bytesRead += Int64(take)
            return take
        }
        while true {
            let result = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + offset, count) }
            if result >= 0 {
                bytesRead += Int64(result)
                return result
            }
            if errno == EINTR { continue }
            throw IngestError(.io, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// Streaming gzip decompression with zlib, including multi-member files.
private final class Inflater {
    private var stream = z_stream()
    private var input = [UInt8](repeating: 0, count: 256 * 1024)
    private var inputStart = 0
    private var inputEnd = 0
    private var finished = false
    private let path: String

    init(path: String) throws(IngestError) {
        self.path = path
        guard czlib_inflate_init_gzip(&stream) == Z_OK else {
            throw IngestError(.gzip, "cannot start gzip decompression for \(path)")
        }
    }

    deinit { inflateEnd(&stream) }

    func inflate(
        into buffer: inout [UInt8], offset: Int, count: Int,
        refill: (inout [UInt8]) throws(IngestError) -> Int
    ) throws(IngestError) -> Int {
        while !finished {
            if inputStart == inputEnd {
                inputStart = 0
                inputEnd = try refill(&input)
                if inputEnd == 0 {
                    throw IngestError(.gzip, "\(path) ends in the middle of its gzip stream; the file is truncated")
                }
            }
            let available = inputEnd - inputStart
            var result: Int32 = Z_OK
            var produced = 0
            input.withUnsafeMutableBytes { inputBytes in
                buffer.withUnsafeMutableBytes { outputBytes in
                    stream.next_in = inputBytes.baseAddress!.assumingMemoryBound(to: Bytef.self) + inputStart
                    stream.avail_in = uInt(available)
                    stream.next_out = outputBytes.baseAddress!.assumingMemoryBound(to: Bytef.self) + offset
                    stream.avail_out = uInt(count)
                    result = CZlib.inflate(&stream, Z_NO_FLUSH)
                    produced = count - Int(stream.avail_out)
                    inputStart = inputEnd - Int(stream.avail_in)
                }
            }
            switch result {
            case Z_STREAM_END:
                // Another gzip member may follow.
                if inputStart == inputEnd {
                    inputStart = 0
                    inputEnd = try refill(&input)
                }
                if inputEnd == inputStart { finished = true } else { inflateReset(&stream) }
            case Z_OK, Z_BUF_ERROR:
                break
            default:
                throw IngestError(.gzip, "\(path) is not valid gzip data (zlib error \(result)); check the file is not corrupted")
            }
            if produced > 0 { return produced }
        }
        return 0
    }
}
