import Foundation
import VigilTooling
import VigilModel

/// A seeded mutation fuzzer: it takes seed inputs and derives new ones by flipping bits,
/// inserting structural bytes, deleting, duplicating, truncating and splicing.
///
/// Runs are reproducible: the same seed gives the same inputs. `VIGIL_FUZZ_SECONDS` sets the
/// time per target (default 3, as in CI) and `VIGIL_FUZZ_SEED` the seed (default fixed).
struct MutationFuzzer {
    static var secondsPerTarget: Double {
        ProcessInfo.processInfo.environment["VIGIL_FUZZ_SECONDS"].flatMap(Double.init) ?? 3
    }

    static var baseSeed: UInt64 {
        ProcessInfo.processInfo.environment["VIGIL_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_F022
    }

    /// Bytes that matter to one parser or another: delimiters, quotes, escapes, NUL, bad UTF-8.
    static let structural: [UInt8] = Array("{}[]\":,=|\\\n\r\t '<>/%-".utf8) + [0x00, 0xFF, 0xC3, 0xE2, 0x80]

    private var random: SplitMix64
    private let seeds: [[UInt8]]

    init(seeds: [[UInt8]], salt: UInt64) {
        precondition(!seeds.isEmpty, "a fuzz target needs at least one seed")
        self.seeds = seeds
        random = SplitMix64(seed: Self.baseSeed ^ salt)
    }

    /// Calls `body` with mutated inputs until the time per target is spent; returns how many ran.
    ///
    /// It yields its thread every 10 ms, so that the tests sharing the thread keep moving
    /// (a target runs for seconds).
    @discardableResult
    mutating func run(_ body: (_ input: [UInt8], _ iteration: Int) throws -> Void) async rethrows -> Int {
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(Self.secondsPerTarget * 1000))
        var nextYield = clock.now
        var iteration = 0
        while clock.now < deadline {
            try body(next(), iteration)
            iteration += 1
            if clock.now >= nextYield {
                await Task.yield()
                nextYield = clock.now + .milliseconds(10)
            }
        }
        return iteration
    }

    /// One mutated input: a seed with one to eight mutations.
    mutating func next() -> [UInt8] {
        var input = seeds[Int(random.next() % UInt64(seeds.count))]
        for _ in 0...(random.next() % 8) { mutate(&input) }
        return input
    }

    private mutating func mutate(_ input: inout [UInt8]) {
        let position = input.isEmpty ? 0 : Int(random.next() % UInt64(input.count))
        switch random.next() % 7 {
        case 0 where !input.isEmpty:
            input[position] ^= UInt8(1 << (random.next() % 8))
        case 1:
            input.insert(Self.structural[Int(random.next() % UInt64(Self.structural.count))], at: position)
        case 2 where !input.isEmpty:
            let length = min(input.count - position, Int(random.next() % 64) + 1)
            input.removeSubrange(position..<(position + length))
        case 3 where !input.isEmpty:
            let length = min(input.count - position, Int(random.next() % 256) + 1)
            let piece = input[position..<(position + length)]
            input.insert(contentsOf: Array(repeating: piece, count: Int(random.next() % 4) + 1).joined(), at: position)
        case 4:
            input.removeSubrange(position...)
        case 5:
            let other = seeds[Int(random.next() % UInt64(seeds.count))]
            let from = other.isEmpty ? 0 : Int(random.next() % UInt64(other.count))
            input.replaceSubrange(position..., with: other[from...])
        default:
            let bytes = (0..<(random.next() % 16 + 1)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            input.insert(contentsOf: bytes, at: position)
        }
    }
}

let corpusRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../shared/corpus").standardized

/// Every file under `folder` of the corpus whose name ends in one of `suffixes`, skipping
/// licences and the restricted logs.
func corpusFiles(_ folder: String, suffixes: [String]) -> [URL] {
    let root = corpusRoot.appendingPathComponent(folder)
    let enumerator = FileManager.default.enumerator(atPath: root.path)
    var files: [URL] = []
    while let relative = enumerator?.nextObject() as? String {
        guard !relative.hasPrefix("_"), suffixes.contains(where: relative.hasSuffix) else { continue }
        files.append(root.appendingPathComponent(relative))
    }
    return files.sorted { $0.path < $1.path }
}
