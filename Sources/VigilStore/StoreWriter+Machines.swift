import VigilModel

/// The machines of a batch, as `StoreWriter.store` finds them before its events go in and
/// updates them after.
struct BatchMachines {
    /// Each machine the batch names once (host names compare case-insensitively), in first-seen order.
    fileprivate(set) var entries: [MachineInBatch] = []
    /// Each entry's machine id.
    fileprivate(set) var ids: [Int64] = []
    /// Whether the entry was upserted whole before the events went in: a machine new to the writer.
    fileprivate var upserted: [Bool] = []
    /// The entry of each item, in item order.
    fileprivate(set) var entryOfItem: [Int] = []

    /// The machine id of the item at `position`.
    func machineID(ofItem position: Int) -> Int64 { ids[entryOfItem[position]] }
}

/// What the writer learned of machine rows in earlier batches, so that a machine it has met
/// costs one update per batch, after the batch's events, instead of an upsert before them and
/// a count after.
///
/// Machine rows are never deleted and their host names never change, and a spelling always
/// finds the row whose name matches it as the store compares (NOCASE): an id learned in a
/// committed transaction stays true. A machine's platform, once not `unknown`, and its version,
/// once set, no update changes. What was learned in a transaction that rolled back is
/// forgotten (`Connection.rollbacks`).
struct KnownMachines {
    private var idBySpelling: [String: Int64] = [:]
    /// The platform and version of the machines whose both are settled.
    private var settled: [Int64: (platform: String, version: String)] = [:]
    private var rollbacksSeen = 0
    /// UTF-8 bytes of the spellings and versions held.
    private var heldBytes = 0
    /// Past this many spellings, or this many bytes of them and their versions, the writer
    /// starts over: host names and versions are pushed data, and a sender inventing new or
    /// long ones must not grow the writer without bound. Forgetting costs only speed.
    static let capacity = 100_000
    static let byteCapacity = 8 << 20

    /// Forgets everything when `connection` rolled a transaction back since the last call.
    mutating func forgetIfRolledBack(_ connection: Connection) {
        guard connection.rollbacks != rollbacksSeen else { return }
        rollbacksSeen = connection.rollbacks
        forget()
    }

    private mutating func forget() {
        idBySpelling.removeAll()
        settled.removeAll()
        heldBytes = 0
    }

    func id(of spelling: String) -> Int64? { idBySpelling[spelling] }

    func settledIdentity(of id: Int64) -> (platform: String, version: String)? { settled[id] }

    mutating func learn(spelling: String, id: Int64, platform: String, version: String?) {
        let settles = platform != OSPlatform.unknown.rawValue && version != nil
        let bytes = spelling.utf8.count + (settles ? version?.utf8.count ?? 0 : 0)
        if idBySpelling.count >= Self.capacity || heldBytes + bytes > Self.byteCapacity { forget() }
        if idBySpelling.updateValue(id, forKey: spelling) == nil { heldBytes += spelling.utf8.count }
        if settles, let version, settled.updateValue((platform, version), forKey: id) == nil { heldBytes += version.utf8.count }
    }
}

extension StoreWriter {
    /// Finds the machine of every item. A machine the writer has not met is upserted whole
    /// now, and learned; one it has met is left for `updateMachines`.
    func findMachines(of items: [BatchItem]) throws -> BatchMachines {
        knownMachines.forgetIfRolledBack(connection)
        var machines = BatchMachines()
        var entryByLowercased: [String: Int] = [:]
        // Lowercasing allocates, so each spelling of a hostname is lowercased once per batch.
        var entryBySpelling: [String: Int] = [:]
        machines.entryOfItem.reserveCapacity(items.count)
        for index in items.indices {
            let hostname = items[index].event.machine.hostname
            let entry: Int
            // Records of one machine usually come in runs: the previous item's spelling is checked first.
            if index > 0, items[index - 1].event.machine.hostname == hostname {
                entry = machines.entryOfItem[index - 1]
            } else if let known = entryBySpelling[hostname] {
                entry = known
            } else {
                let lowercased = hostname.lowercased()
                if let known = entryByLowercased[lowercased] { entry = known } else {
                    entry = machines.entries.count
                    entryByLowercased[lowercased] = entry
                    machines.entries.append(MachineInBatch(items[index].event))
                }
                entryBySpelling[hostname] = entry
            }
            machines.entryOfItem.append(entry)
            machines.entries[entry].add(items[index].event.machine, at: items[index].event.time)
        }
        let upsert = try connection.statement("""
            INSERT INTO machines (hostname, os_platform, os_version, first_seen, last_seen, last_integration)
            VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(hostname) DO UPDATE SET
                os_platform = CASE WHEN machines.os_platform = 'unknown' THEN excluded.os_platform ELSE machines.os_platform END,
                os_version = COALESCE(machines.os_version, excluded.os_version),
                first_seen = MIN(machines.first_seen, excluded.first_seen),
                last_seen = MAX(machines.last_seen, excluded.last_seen),
                last_integration = excluded.last_integration
            RETURNING id, os_platform, os_version
            """)
        machines.ids.reserveCapacity(machines.entries.count)
        for entry in machines.entries {
            if let id = knownMachines.id(of: entry.identity.hostname) {
                machines.ids.append(id)
                machines.upserted.append(false)
                continue
            }
            upsert.bind(entry.identity.hostname, entry.identity.platform.rawValue, entry.identity.osVersion,
                        entry.first.microseconds, entry.last.microseconds, entry.integration)
            guard let (id, platform, version) = try upsert.firstRow({ ($0.int("id"), $0.text("os_platform"), $0.optionalText("os_version")) }) else {
                throw StoreError(.notFound, "the machine upsert returned no id")
            }
            try recordClaimsAndLink(of: entry, id: id, storedPlatform: platform, storedVersion: version)
            knownMachines.learn(spelling: entry.identity.hostname, id: id, platform: platform, version: version)
            machines.ids.append(id)
            machines.upserted.append(true)
        }
        return machines
    }

    /// Brings the batch's machines up to date once its events are stored: `storedPerEntry`
    /// events more each, and for a machine `findMachines` did not upsert, what the batch says
    /// of it.
    func updateMachines(_ machines: BatchMachines, storedPerEntry: [Int]) throws {
        let count = try connection.statement("UPDATE machines SET event_count = event_count + ? WHERE id = ?")
        let assignments = """
            UPDATE machines SET os_platform = CASE WHEN os_platform = 'unknown' THEN ? ELSE os_platform END,
                os_version = COALESCE(os_version, ?), first_seen = MIN(first_seen, ?), last_seen = MAX(last_seen, ?),
                last_integration = ?, event_count = event_count + ?
            WHERE id = ?
            """
        let update = try connection.statement(assignments)
        let updateReturning = try connection.statement(assignments + " RETURNING os_platform, os_version")
        for (index, entry) in machines.entries.enumerated() {
            let id = machines.ids[index]
            if machines.upserted[index] {
                if storedPerEntry[index] > 0 { try count.bind(storedPerEntry[index], id).run() }
                continue
            }
            let values: [(any SQLValue)?] = [entry.identity.platform.rawValue, entry.identity.osVersion, entry.first.microseconds,
                                             entry.last.microseconds, entry.integration, storedPerEntry[index], id]
            if let (platform, version) = knownMachines.settledIdentity(of: id) {
                try update.bind(values).run()
                guard connection.changes == 1 else { throw Self.vanished(id) }
                try recordClaimsAndLink(of: entry, id: id, storedPlatform: platform, storedVersion: version)
            } else {
                guard let (platform, version) = try updateReturning.bind(values).firstRow({ ($0.text("os_platform"), $0.optionalText("os_version")) }) else {
                    throw Self.vanished(id)
                }
                try recordClaimsAndLink(of: entry, id: id, storedPlatform: platform, storedVersion: version)
                knownMachines.learn(spelling: entry.identity.hostname, id: id, platform: platform, version: version)
            }
        }
    }

    private static func vanished(_ id: Int64) -> StoreError {
        StoreError(.notFound, "machine \(id), which this writer stored or found earlier, is not in the store; the batch was not stored, try it again")
    }

    /// Keeps aside, for review, what the batch claims of a known machine that differs from
    /// the platform and version stored; and links the machine to the batch's integration.
    private func recordClaimsAndLink(of entry: MachineInBatch, id: Int64, storedPlatform: String, storedVersion: String?) throws {
        let claim = try connection.statement("""
            INSERT INTO machine_claims (machine_id, integration, os_platform, os_version, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT DO UPDATE SET first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen)
            """)
        for claimed in entry.claims {
            let otherPlatform = claimed.platform != .unknown && claimed.platform.rawValue != storedPlatform
            let otherVersion = claimed.version.map { $0 != storedVersion } ?? false
            guard otherPlatform || otherVersion else { continue }
            try claim.bind(id, entry.integration, claimed.platform.rawValue, claimed.version ?? "",
                           entry.first.microseconds, entry.last.microseconds).run()
        }
        try connection.statement("""
            INSERT INTO machine_integrations (machine_id, integration, last_seen) VALUES (?, ?, ?)
            ON CONFLICT(machine_id, integration) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen)
            """).bind(id, entry.integration, entry.last.microseconds).run()
    }
}

/// What a batch says of one machine: what it says first, its time span, and each distinct
/// platform and version claimed (both stores' writers gather it).
package struct MachineInBatch {
    package var identity: MachineIdentity
    package var first: Timestamp
    package var last: Timestamp
    package var integration: String
    package var claims: [(platform: OSPlatform, version: String?)] = []

    /// What `event` says; `add` it too, for its time and its claim.
    package init(_ event: Event) {
        identity = event.machine
        (first, last) = (event.time, event.time)
        integration = event.integration
    }

    package mutating func add(_ machine: MachineIdentity, at time: Timestamp) {
        first = min(first, time)
        last = max(last, time)
        if identity.platform == .unknown { identity.platform = machine.platform }
        if identity.osVersion == nil { identity.osVersion = machine.osVersion }
        if machine.platform != .unknown || machine.osVersion != nil,
           !claims.contains(where: { $0.platform == machine.platform && $0.version == machine.osVersion }) {
            claims.append((machine.platform, machine.osVersion))
        }
    }
}
