import Foundation
import VigilTooling

/// Output rows held until the end of a hunt and given back sorted by a key (event time for
/// `--timeline`), stable, in bounded memory: every `runLength` rows are sorted and written to a
/// temporary file as one run, and the runs are merged when the rows are read back. Ten million
/// matches cost their disk space, not their memory.
final class SpillingSorter {
    /// One held row: its sort key, its arrival (which breaks ties) and its rendered text.
    private struct Entry {
        var key: Int64
        var sequence: Int64
        var payload: String
    }

    private let runLength: Int
    private var run: [Entry] = []
    private var runs: [URL] = []
    private var sequence: Int64 = 0
    /// Created on the first spill; removed with its runs when the sorter goes.
    private var directory: TemporaryDirectory?

    /// Rows held in memory before they are spilled.
    init(runLength: Int = 50_000) {
        precondition(runLength > 0)
        self.runLength = runLength
    }

    /// Adds a row; spills the current run when it is full.
    func add(key: Int64, payload: String) throws {
        run.append(Entry(key: key, sequence: sequence, payload: payload))
        sequence += 1
        if run.count >= runLength { try spill() }
    }

    /// Calls `body` with every row, by key and then by arrival, and empties the sorter.
    func forEachSorted(_ body: (String) throws -> Void) throws {
        run.sort { ($0.key, $0.sequence) < ($1.key, $1.sequence) }
        var readers = try runs.map(RunReader.init)
        var heads = try readers.indices.map { try readers[$0].next() }
        var memoryIndex = 0
        while true {
            // The smallest of the runs' heads and the in-memory run's next row.
            var best: Int?
            for index in heads.indices {
                guard let head = heads[index] else { continue }
                if let current = best, let chosen = heads[current], (chosen.key, chosen.sequence) <= (head.key, head.sequence) { continue }
                best = index
            }
            if memoryIndex < run.count {
                let entry = run[memoryIndex]
                if best.flatMap({ heads[$0] }).map({ (entry.key, entry.sequence) < ($0.key, $0.sequence) }) ?? true {
                    try body(entry.payload)
                    memoryIndex += 1
                    continue
                }
            }
            guard let index = best, let head = heads[index] else { break }
            try body(head.payload)
            heads[index] = try readers[index].next()
        }
        run = []
        runs = []
        directory = nil
    }

    /// Sorts the current run and writes it to a file of records: key, sequence and payload
    /// length (8, 8 and 4 bytes, little-endian), then the payload's UTF-8.
    private func spill() throws {
        run.sort { ($0.key, $0.sequence) < ($1.key, $1.sequence) }
        let folder = directory ?? TemporaryDirectory(prefix: "vigil-hunt-sort")
        directory = folder
        var bytes: [UInt8] = []
        bytes.reserveCapacity(run.reduce(0) { $0 + 20 + $1.payload.utf8.count })
        for entry in run {
            withUnsafeBytes(of: entry.key.littleEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: entry.sequence.littleEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt32(entry.payload.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: entry.payload.utf8)
        }
        let file = folder.url.appendingPathComponent("run-\(runs.count)")
        do { try Data(bytes).write(to: file) } catch {
            throw CLIError("cannot spill the timeline to \(file.path): \(error.localizedDescription); free disk space in \(FileManager.default.temporaryDirectory.path) or set TMPDIR")
        }
        runs.append(file)
        run = []
    }

    /// Reads one spilled run's records in order, a block at a time.
    private struct RunReader {
        private let handle: FileHandle
        private var buffer: [UInt8] = []
        private var offset = 0

        init(_ file: URL) throws { handle = try FileHandle(forReadingFrom: file) }

        mutating func next() throws -> Entry? {
            guard try fill(20) else {
                if buffer.count > offset { throw CLIError("a spilled timeline run ended early; was its temporary file removed?") }
                return nil
            }
            let key = Int64(littleEndian: integer(at: offset))
            let sequence = Int64(littleEndian: integer(at: offset + 8))
            let length = Int(UInt32(littleEndian: integer(at: offset + 16)))
            offset += 20
            guard try fill(length) else { throw CLIError("a spilled timeline run ended early; was its temporary file removed?") }
            let payload = String(decoding: buffer[offset..<offset + length], as: UTF8.self)
            offset += length
            return Entry(key: key, sequence: sequence, payload: payload)
        }

        private func integer<T: FixedWidthInteger>(at position: Int) -> T {
            var value: T = 0
            withUnsafeMutableBytes(of: &value) { target in
                for index in 0..<MemoryLayout<T>.size { target[index] = buffer[position + index] }
            }
            return value
        }

        /// Makes `count` bytes available from `offset`; false at the end of the file.
        private mutating func fill(_ count: Int) throws -> Bool {
            if buffer.count - offset >= count { return true }
            buffer.removeSubrange(0..<offset)
            offset = 0
            while buffer.count < count {
                guard let block = try handle.read(upToCount: max(1 << 16, count - buffer.count)), !block.isEmpty else { return false }
                buffer.append(contentsOf: block)
            }
            return true
        }
    }
}
