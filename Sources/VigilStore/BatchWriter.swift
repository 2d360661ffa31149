/// A store's writer as the pipeline's commit stage uses it: it stores a batch's events and
/// answers and applies the Correlator's alert decisions, all in one transaction.
/// `StoreWriter` is SQLite's; `PostgresWriter` is PostgreSQL's.
public protocol BatchWriter: EventSink, AlertLedger, AlertUpserts {}

extension StoreWriter: BatchWriter {}

/// What an import needs of a store besides its writer: the gate's view of the integration, a
/// place to count and audit a refusal, and the correlation windows kept between imports.
public protocol ImportTarget: AnyObject {
    func integration(named name: String) throws -> IntegrationRow?
    func recordRefusedIngest(integration: String, actor: String, reason: String) throws
    /// The correlation windows saved by the last import.
    func correlationState() throws -> [(correlationID: String, groupKey: String, state: String)]
    /// Replaces the saved correlation windows.
    func saveCorrelationState(_ rows: [(correlationID: String, groupKey: String, state: String)]) throws
}

extension Store: ImportTarget {}
