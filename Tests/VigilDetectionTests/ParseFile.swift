import VigilIngest
import VigilModel

/// Frames and parses a file as the import pipeline does.
func parseFile(_ path: String, format: SourceFormat = .json) throws -> (events: [Event], rejected: [RejectedRecord]) {
    let framer = RecordFramer(source: try ByteSource(path: path))
    var parser = format.makeParser(context: ParserContext(integration: "test"))
    var items: [RecordFramer.Item] = []
    var events: [Event] = []
    var rejected: [RejectedRecord] = []
    var more = true
    while more {
        items.removeAll()
        more = try framer.next(into: &items, limit: 3)
        for item in items {
            switch item {
            case .record(let record): if let rejection = parser.parse(record, into: &events) { rejected.append(rejection) }
            case .rejected(let rejection): rejected.append(rejection)
            }
        }
    }
    parser.finish(into: &events)
    return (events, rejected)
}

