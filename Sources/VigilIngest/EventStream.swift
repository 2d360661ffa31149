import VigilModel

/// One input read through its parser, handed over in batches in input order: the loop that
/// `vigil hunt`, `vigil rules test`, `vigil bench` and the tests share.
///
/// ```swift
/// var stream = try EventStream(path: "auth.log", format: nil, context: ParserContext(integration: "hunt"))
/// try stream.forEachBatch { events, rejected in … }
/// ```
public struct EventStream {
    /// The format read: the one asked for, or the one detected from the first records.
    public let format: SourceFormat
    private let framer: RecordFramer
    private var parser: any EventParser
    private var items: [RecordFramer.Item] = []
    private var events: [Event] = []

    /// Opens `path` (`-` is stdin); a nil `format` is detected from the input's first records.
    public init(path: String, format: SourceFormat?, context: ParserContext) throws(IngestError) {
        try self.init(source: ByteSource(path: path), format: format, context: context)
    }

    /// Reads `source`; a nil `format` is detected from the input's first records.
    public init(source: ByteSource, format: SourceFormat?, context: ParserContext) throws(IngestError) {
        framer = RecordFramer(source: source)
        if let format { self.format = format } else { self.format = try SourceFormat.detect(framer, path: source.path) }
        parser = self.format.makeParser(context: context)
    }

    /// Records read fine that carry no event; final once the input is consumed.
    public var skippedRecords: Int { parser.skippedRecords }

    /// Calls `body` with each batch of at most `limit` records' events and rejections, to the
    /// end of the input; returns how many records were read.
    @discardableResult
    public mutating func forEachBatch(limit: Int = 8_192, _ body: (_ events: [Event], _ rejected: [RejectedRecord]) throws -> Void) throws -> Int {
        var records = 0
        var more = true
        while more {
            items.removeAll(keepingCapacity: true)
            events.removeAll(keepingCapacity: true)
            more = try framer.next(into: &items, limit: limit)
            records += items.count
            var rejected: [RejectedRecord] = []
            parser.parse(items, into: &events, rejected: &rejected)
            if !more { parser.finish(into: &events) }
            try body(events, rejected)
        }
        return records
    }
}
