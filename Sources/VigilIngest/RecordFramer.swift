import Foundation
import VigilModel

#if canImport(Glibc)
import Glibc
#endif

/// One framed record: its text and the 1-based line where it starts.
public struct RawRecord: Sendable {
    public var line: Int
    public var text: String

    public init(line: Int, text: String) {
        self.line = line
        self.text = text
    }
}

/// Splits a `ByteSource` into records without holding more than a chunk in memory: lines
/// (CR LF or LF; empty lines skipped), or the elements of a top-level JSON array.
public final class RecordFramer {
    /// What the framer produced next.
    public enum Item {
        case record(RawRecord)
        /// A record that is not valid UTF-8 or is too long; it is reported, never parsed.
        case rejected(RejectedRecord)
    }

    /// Records longer than this are rejected rather than buffered.
    public static let maximumRecordBytes = 16 * 1024 * 1024
    private static let chunkSize = 1 << 20

    private let source: ByteSource
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var atEnd = false
    private var lineCounter = 1
    private var mode: Mode?
    /// A damaged gzip stream ends the input early; it is reported once, after the records read before it.
    private var streamFailure: RejectedRecord?

    private enum Mode { case lines, jsonArray }

    public init(source: ByteSource) {
        self.source = source
        buffer = [UInt8](repeating: 0, count: Self.chunkSize)
    }

    /// Reads the next records into `items` (at most `limit`); returns false at end of input.
    public func next(into items: inout [Item], limit: Int) throws(IngestError) -> Bool {
        if mode == nil { try detectMode() }
        var produced = 0
        while produced < limit {
            let found = mode == .jsonArray ? try nextArrayElement() : try nextLine()
            guard let found else {
                if let failure = streamFailure {
                    items.append(.rejected(failure))
                    streamFailure = nil
                }
                return false
            }
            items.append(found)
            produced += 1
        }
        return true
    }

    /// Counts the records of `source` from where it stands, stopping once the count passes
    /// `limit` (then it returns `limit + 1`): what a cap on records per input needs to know
    /// before anything is parsed.
    public static func countRecords(of source: ByteSource, upTo limit: Int) throws(IngestError) -> Int {
        let framer = RecordFramer(source: source)
        var items: [Item] = []
        var count = 0
        var more = true
        while more && count <= limit {
            items.removeAll(keepingCapacity: true)
            more = try framer.next(into: &items, limit: Swift.min(8_192, limit + 1 - count))
            count += items.count
        }
        return Swift.min(count, limit + 1)
    }

    /// The first lines of the input, for format detection, without consuming anything. The
    /// elements of a JSON array come back as one line.
    public func sample(maxLines: Int = 50) throws(IngestError) -> [String] {
        if mode == nil { try detectMode() }
        let window = buffer[start..<min(end, start + 65_536)]
        let text = String(decoding: window, as: UTF8.self)
        if mode == .jsonArray { return [text.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)] }
        return text.split(separator: "\n", omittingEmptySubsequences: true).prefix(maxLines).map {
            String($0.hasSuffix("\r") ? $0.dropLast() : $0)
        }
    }

    /// A JSON array starts with `[` then `{` or `]` (after white space and a UTF-8 BOM); anything else is lines.
    private func detectMode() throws(IngestError) {
        while !atEnd, end - start < 65_536 { try fill() }
        var index = start
        if end - index >= 3, buffer[index] == 0xEF, buffer[index + 1] == 0xBB, buffer[index + 2] == 0xBF {
            index += 3
            start = index
        }
        while index < end, isWhitespace(buffer[index]) { index += 1 }
        var next = index + 1
        while next < end, isWhitespace(buffer[next]) { next += 1 }
        // `[{` or `[]` opens a JSON array of events; `[2026-…] santad: …` is a log line.
        if index < end, buffer[index] == UInt8(ascii: "["), next < end, buffer[next] == UInt8(ascii: "{") || buffer[next] == UInt8(ascii: "]") {
            mode = .jsonArray
            for byte in buffer[start...index] where byte == 0x0A { lineCounter += 1 }
            start = index + 1
        } else {
            mode = .lines
        }
    }

    /// Reads more input after the unconsumed bytes; grows the buffer for long records.
    private func fill() throws(IngestError) {
        guard !atEnd else { return }
        if start > 0 {
            let remaining = end - start
            if remaining > 0 {
                buffer.withUnsafeMutableBytes { bytes in
                    _ = memmove(bytes.baseAddress!, bytes.baseAddress! + start, remaining)
                }
            }
            start = 0
            end = remaining
        }
        if end == buffer.count {
            buffer.append(contentsOf: repeatElement(0, count: buffer.count))
        }
        let count: Int
        do {
            count = try source.read(into: &buffer, offset: end, count: buffer.count - end)
        } catch where error.code == .gzip {
            atEnd = true
            streamFailure = RejectedRecord(line: lineCounter, reason: "\(error.message); the records before it were read", raw: "")
            return
        }
        if count == 0 { atEnd = true }
        end += count
    }

    private func nextLine() throws(IngestError) -> Item? {
        while true {
            var newline: Int?
            if start < end {
                newline = buffer.withUnsafeBytes { bytes -> Int? in
                    guard let found = memchr(bytes.baseAddress! + start, 0x0A, end - start) else { return nil }
                    return UnsafeRawPointer(found) - UnsafeRawPointer(bytes.baseAddress!)
                }
            }
            if newline == nil && !atEnd {
                if skippingOverlong {
                    start = end  // More of the over-long record: drop it unread.
                } else if end - start > Self.maximumRecordBytes {
                    return skipOverlongLine()
                }
                try fill()
                continue
            }
            guard newline != nil || start < end else { return nil }
            let lineEnd = newline ?? end
            if skippingOverlong {
                // The over-long record ends here; it was reported when it passed the limit.
                skippingOverlong = false
                lineCounter += 1
                start = newline.map { $0 + 1 } ?? end
                continue
            }
            let line = lineCounter
            lineCounter += 1
            var contentEnd = lineEnd
            if contentEnd > start, buffer[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let recordStart = start
            start = newline.map { $0 + 1 } ?? end
            if isBlank(recordStart, contentEnd) { continue }
            return makeItem(recordStart, contentEnd, line: line)
        }
    }

    private func skipOverlongLine() -> Item {
        let line = lineCounter
        let prefix = String(decoding: buffer[start..<(start + 64)], as: UTF8.self)
        // Drop what is buffered; the rest of the record is dropped as it arrives.
        start = end
        skippingOverlong = true
        return .rejected(RejectedRecord(line: line, reason: "record longer than \(Self.maximumRecordBytes) bytes", raw: prefix))
    }

    private var skippingOverlong = false

    private func makeItem(_ from: Int, _ to: Int, line: Int) -> Item {
        let text = buffer.withUnsafeBufferPointer { bytes in
            let record = UnsafeBufferPointer(rebasing: bytes[from..<to])
            // ASCII needs no validation: `String(validating:)` is not specialized and looked up
            // generic type metadata on every record.
            return record.isASCII ? String(decoding: record, as: UTF8.self) : String(validating: record, as: UTF8.self)
        }
        guard let text else {
            let offset = buffer.withUnsafeBufferPointer { bytes in
                Self.firstInvalidUTF8Offset(UnsafeBufferPointer(rebasing: bytes[from..<to]))
            }
            let lossy = String(decoding: buffer[from..<to], as: UTF8.self)
            return .rejected(RejectedRecord(line: line, reason: "invalid UTF-8 at byte \(offset + 1)", raw: lossy))
        }
        return .record(RawRecord(line: line, text: text))
    }

    private func nextArrayElement() throws(IngestError) -> Item? {
        var depth = 0
        var inString = false
        var escaped = false
        var index = start
        var elementStart: Int?
        var elementLine = lineCounter
        while true {
            if index >= end {
                if atEnd {
                    if let elementStart, !isBlank(elementStart, end) {
                        start = end
                        let text = String(decoding: buffer[elementStart..<end], as: UTF8.self)
                        return .rejected(RejectedRecord(line: elementLine, reason: "the JSON array ends before this element is complete", raw: text))
                    }
                    return nil
                }
                let consumed = start
                if end - start > Self.maximumRecordBytes {
                    start = end
                    return .rejected(RejectedRecord(line: elementLine, reason: "record longer than \(Self.maximumRecordBytes) bytes", raw: ""))
                }
                try fill()
                index -= consumed
                elementStart = elementStart.map { $0 - consumed }
                continue
            }
            let byte = buffer[index]
            if byte == 0x0A { lineCounter += 1 }
            if inString {
                if escaped { escaped = false }
                else if byte == UInt8(ascii: "\\") { escaped = true }
                else if byte == UInt8(ascii: "\"") { inString = false }
                index += 1
                continue
            }
            if elementStart == nil {
                if isWhitespace(byte) || byte == UInt8(ascii: ",") {
                    index += 1
                    start = index
                    continue
                }
                if byte == UInt8(ascii: "]") {
                    start = end
                    atEnd = true
                    return nil
                }
                elementStart = index
                elementLine = lineCounter
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "]") where depth == 0:
                // The closing bracket of the array itself.
                let from = elementStart!
                start = index
                return makeItem(from, trimmedEnd(from, index), line: elementLine)
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                // A stray `}` at depth 0 stays part of the (malformed) element, which the parser rejects.
                depth = max(0, depth - 1)
            case UInt8(ascii: ","):
                if depth == 0 {
                    let from = elementStart!
                    start = index + 1
                    return makeItem(from, trimmedEnd(from, index), line: elementLine)
                }
            default: break
            }
            index += 1
        }
    }

    private func trimmedEnd(_ from: Int, _ to: Int) -> Int {
        var to = to
        while to > from, isWhitespace(buffer[to - 1]) { to -= 1 }
        return to
    }

    private func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private func isBlank(_ from: Int, _ to: Int) -> Bool {
        for index in from..<to where !isWhitespace(buffer[index]) { return false }
        return true
    }

    static func firstInvalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput, .error: return offset
            }
        }
    }
}
