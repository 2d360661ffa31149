import VigilModel

/// Where batches of events go: the writer side of a store. Every method but `transaction`
/// runs inside a transaction its caller opened.
public protocol EventSink: AnyObject {
    /// Runs `body` in one write transaction: it commits whole, or nothing of it does.
    func transaction<T>(_ body: () throws -> T) throws -> T

    /// Records the start of an import (one input, or one push) and returns its id.
    func beginImport(source: String, format: String, integration: String) throws -> Int64

    /// Records the end of an import; its totals were added batch by batch.
    func finishImport(id: Int64, failed: Bool) throws

    /// Whether push token `tokenID` is still unrevoked and unexpired and its integration on.
    func tokenStillValid(_ tokenID: Int64) throws -> Bool

    /// Records that push token `tokenID` delivered a batch now.
    func recordTokenUse(_ tokenID: Int64) throws

    /// Stores `items`' machines and events, in order, and says what became of each: stored, or
    /// the same event stored before, or refused. Events dated after `futureAfter` are stored
    /// with `future_time` set.
    func store(_ items: [BatchItem], importID: Int64?, futureAfter: Timestamp) throws -> [StoreResult]

    /// Stores rejected records and adds a batch's totals to its import and integrations.
    func finishBatch(_ outcome: BatchOutcome, rejected: [RejectedRecord], recordsRead: Int, importID: Int64?,
                     eventsByIntegration: [String: Int]) throws
}

/// What became of one event of a batch.
public enum StoreResult: Sendable, Equatable {
    /// Stored now.
    case stored(StoredEvent)
    /// The same event (its format, category, time, raw text, machine and integration) was stored
    /// before, under storage key `key`: a re-import adds nothing.
    case duplicate(key: Int64)
    /// Not stored, for `reason`: every storage key the event can take holds another event.
    case refused(reason: String)
}

/// Where an event of a batch was stored.
public struct StoredEvent: Sendable, Equatable {
    public var eventID: Int64
    public var machineID: Int64
    /// Its storage key (`EventKey.storageKey(probe:)`), by which correlation alerts link it.
    public var key: Int64

    public init(eventID: Int64, machineID: Int64, key: Int64) {
        self.eventID = eventID
        self.machineID = machineID
        self.key = key
    }
}
