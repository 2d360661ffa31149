import VigilIngest
import VigilModel

/// Frames and parses a file as the import pipeline does.
func parseFile(_ path: String, format: SourceFormat) throws -> (events: [Event], rejected: [RejectedRecord]) {
    var stream = try EventStream(path: path, format: format, context: ParserContext(integration: "test"))
    var events: [Event] = []
    var rejected: [RejectedRecord] = []
    try stream.forEachBatch { events += $0; rejected += $1 }
    return (events, rejected)
}
