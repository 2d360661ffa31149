import NIOCore
import PostgresNIO
import VigilModel
import VigilStore

/// The writer of a PostgreSQL store: one per node (or per import), on a connection of its own.
///
/// Several writers on several nodes write at once, so what SQLite gets from its single writer
/// comes from PostgreSQL's locks here:
/// - a batch locks its machines' rows in host-name order before anything else (`upsertMachines`),
///   so two batches that share a machine take turns, and alert decisions for one machine (which
///   are per machine: rule, machine and dedupe key) never race: no lost fold, no twin alert;
/// - events go in with `INSERT … ON CONFLICT (key) DO NOTHING`, so an event pushed to two nodes
///   at once is stored once;
/// - the token and integration a push came through are re-read, key-share-locked, in its transaction.
public final class PostgresWriter: BatchWriter {
    let session: PostgresSession
    var knownRules: Set<String> = []
    var json = FieldsJSONWriter()
    /// The session's connection on which the correlator role was taken, if it was.
    var roleConnection: Int?

    /// A writer on a connection of its own to the database at `url`.
    public init(url: PostgresURL) throws {
        session = try PostgresSession(url: url)
    }

    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try session.transaction(body)
    }

    public func beginImport(source: String, format: String, integration: String) throws -> Int64 {
        guard let row = try session.query("""
            INSERT INTO imports (source, format, integration, started_at, status) VALUES ($1, $2, $3, $4, 'running') RETURNING id
            """, [storable(source), format, integration, Timestamp.now().microseconds]).first
        else { throw StoreError(.notFound, "the import insert returned no id") }
        return try row.int("id")
    }

    public func finishImport(id: Int64, failed: Bool) throws {
        try session.execute("UPDATE imports SET finished_at = $1, status = $2 WHERE id = $3",
                            [Timestamp.now().microseconds, failed ? "failed" : "completed", id])
    }

    /// Key-share-locks the token's and its integration's rows. Turning the integration off and
    /// revoking the token lock those rows `FOR UPDATE` first, so they wait for this transaction,
    /// and every push that checks after they commit is refused. A key-share lock does not stop
    /// this or another push from updating the rows' counters, so pushes never deadlock on them.
    public func tokenStillValid(_ tokenID: Int64) throws -> Bool {
        try !session.query("""
            SELECT 1 FROM access_tokens t JOIN integrations i ON i.name = t.integration
            WHERE t.id = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 AND i.enabled = 1 FOR KEY SHARE OF t, i
            """, [tokenID, Timestamp.now().microseconds]).isEmpty
    }

    public func recordTokenUse(_ tokenID: Int64) throws {
        try session.execute("UPDATE access_tokens SET last_used_at = $1 WHERE id = $2", [Timestamp.now().microseconds, tokenID])
    }

    /// Inserts the batch's events in multi-row statements, one per storage-key try: the events
    /// whose key another event holds are compared with it in one query, and either are that
    /// event again (duplicates) or try their next key.
    public func store(_ items: [BatchItem], importID: Int64?, futureAfter: Timestamp) throws -> [StoreResult] {
        let machineIDs = try upsertMachines(items)
        var results = [StoreResult?](repeating: nil, count: items.count)
        let keys = items.map { $0.key ?? EventKey($0.event) }
        var columns = EventColumns(capacity: items.count)
        var pending = Array(items.indices)
        var storedPerMachine: [Int64: Int64] = [:]
        for position in items.indices {
            let event = items[position].event
            columns.append(event, machineID: machineIDs[position], importID: importID, futureTime: event.time > futureAfter,
                           fieldsJSON: items[position].fieldsJSON ?? json.object(event.fields))
        }
        for probe in 0..<EventKey.maximumProbes where !pending.isEmpty {
            let tryKeys = pending.map { keys[$0].storageKey(probe: probe) }
            let inserted = try session.query("""
                INSERT INTO events (key, time, machine_id, integration, source_format, product, category, service, fields, raw, import_id, line, future_time)
                SELECT k, t, m, i, f, CASE WHEN n & 1 = 0 THEN p END, CASE WHEN n & 2 = 0 THEN c END, CASE WHEN n & 4 = 0 THEN s END,
                    fi, r, NULLIF(im, 0), l, ft
                FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                            $10::text[], $11::int8[], $12::int8[], $13::int4[], $14::int4[]) AS b(k, t, m, i, f, p, c, s, fi, r, im, l, ft, n)
                ON CONFLICT (key) DO NOTHING RETURNING id, key
                """, [tryKeys] + columns.arrays(at: pending))
            var idByKey: [Int64: Int64] = [:]
            for row in inserted { idByKey[try row.int("key")] = try row.int("id") }
            var taken: [Int] = []
            for (offset, position) in pending.enumerated() {
                // Two items of one batch with the same key: the first is stored, the second compared with it.
                if let id = idByKey.removeValue(forKey: tryKeys[offset]) {
                    results[position] = .stored(StoredEvent(eventID: id, machineID: machineIDs[position], key: tryKeys[offset]))
                    storedPerMachine[machineIDs[position], default: 0] += 1
                } else {
                    taken.append(offset)
                }
            }
            guard !taken.isEmpty else { break }
            var holders: [Int64: (time: Int64, machine: Int64, integration: String, format: String, category: String, raw: String)] = [:]
            for row in try session.query("""
                SELECT key, time, machine_id, integration, source_format, COALESCE(category, '') AS category, raw FROM events WHERE key = ANY($1::int8[])
                """, [taken.map { tryKeys[$0] }]) {
                holders[try row.int("key")] = (try row.int("time"), try row.int("machine_id"), try row.text("integration"),
                                               try row.text("source_format"), try row.text("category"), try row.text("raw"))
            }
            var next: [Int] = []
            for offset in taken {
                let position = pending[offset]
                let event = items[position].event
                if let holder = holders[tryKeys[offset]], holder.time == event.time.microseconds, holder.machine == machineIDs[position],
                   holder.integration == event.integration, holder.format == event.sourceFormat,
                   holder.category == storable(event.logSource.category ?? ""), holder.raw == storable(event.raw) {
                    results[position] = .duplicate(key: tryKeys[offset])
                } else {
                    next.append(position)
                }
            }
            pending = next
        }
        if !storedPerMachine.isEmpty {
            let counts = storedPerMachine.sorted { $0.key < $1.key }
            try session.execute("""
                UPDATE machines m SET event_count = m.event_count + d.n FROM unnest($1::int8[], $2::int8[]) AS d(id, n) WHERE m.id = d.id
                """, [counts.map(\.key), counts.map(\.value)])
        }
        return results.map { $0 ?? .refused(reason: StoreWriter.allKeysTaken) }
    }

    public func finishBatch(_ outcome: BatchOutcome, rejected: [RejectedRecord], recordsRead: Int, importID: Int64?,
                            eventsByIntegration: [String: Int]) throws {
        if let importID {
            if !rejected.isEmpty {
                try session.execute("""
                    INSERT INTO rejected_records (import_id, line, reason, raw_prefix) SELECT $1, l, r, p FROM unnest($2::int8[], $3::text[], $4::text[]) AS b(l, r, p)
                    """, [importID, rejected.map { Int64($0.line) }, rejected.map { storable($0.reason) }, rejected.map { storable($0.rawPrefix) }])
            }
            try session.execute("""
                UPDATE imports SET records_read = records_read + $1, events_stored = events_stored + $2, rejected = rejected + $3,
                    duplicates = duplicates + $4, alerts_raised = alerts_raised + $5 WHERE id = $6
                """, [Int64(recordsRead), Int64(outcome.stored), Int64(outcome.rejected), Int64(outcome.duplicates), Int64(outcome.alertsRaised), importID])
        }
        let now = Timestamp.now().microseconds
        // In name order, as every writer takes them, so two writers never wait on each other crosswise.
        for (integration, count) in eventsByIntegration.sorted(by: { $0.key < $1.key }) {
            try session.execute("UPDATE integrations SET events_received = events_received + $1, last_data_at = $2 WHERE name = $3",
                                [Int64(count), now, integration])
        }
    }

    /// Upserts every machine of the batch once, in lowercased host-name order (the order every
    /// writer locks machine rows in), and returns each item's machine id, in item order.
    private func upsertMachines(_ items: [BatchItem]) throws -> [Int64] {
        var seen: [String: MachineInBatch] = [:]
        var lowercasedOfItem: [String] = []
        lowercasedOfItem.reserveCapacity(items.count)
        for item in items {
            let machine = item.event.machine
            let lowercased = lowercasedOfItem.last.flatMap { last in
                seen[last]?.identity.hostname == machine.hostname ? last : nil
            } ?? machine.hostname.lowercased()
            lowercasedOfItem.append(lowercased)
            var entry = seen[lowercased] ?? MachineInBatch(item.event)
            entry.add(machine, at: item.event.time)
            seen[lowercased] = entry
        }
        // One statement per table for the whole batch, rows in lowercased host-name order.
        let machines = seen.sorted { $0.key < $1.key }
        var ids: [String: Int64] = [:]
        var known: [String: (platform: String, version: String?)] = [:]
        // Each input row is matched to its machine by PostgreSQL's own lower(), as the unique index
        // compares; rows that fold together there go in once (DISTINCT ON), so no row is hit twice.
        for row in try session.query("""
            WITH input AS (
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::int8[], $6::int8[], $7::text[]) WITH ORDINALITY
                    AS b(h, p, v, v_null, f, l, i, n)),
            upserted AS (
                INSERT INTO machines (hostname, os_platform, os_version, first_seen, last_seen, last_integration)
                SELECT h, p, CASE WHEN v_null THEN NULL ELSE v END, f, l, i
                FROM (SELECT DISTINCT ON (lower(h)) * FROM input ORDER BY lower(h), n) AS folded ORDER BY n
                ON CONFLICT ((lower(hostname))) DO UPDATE SET
                    os_platform = CASE WHEN machines.os_platform = 'unknown' THEN excluded.os_platform ELSE machines.os_platform END,
                    os_version = COALESCE(machines.os_version, excluded.os_version),
                    first_seen = LEAST(machines.first_seen, excluded.first_seen),
                    last_seen = GREATEST(machines.last_seen, excluded.last_seen),
                    last_integration = excluded.last_integration
                RETURNING id, lower(hostname) AS folded, os_platform, os_version)
            SELECT input.n, upserted.id, upserted.os_platform, upserted.os_version FROM input JOIN upserted ON upserted.folded = lower(input.h)
            """, [machines.map { storable($0.value.identity.hostname) }, machines.map(\.value.identity.platform.rawValue),
                  machines.map { $0.value.identity.osVersion.map(storable) ?? "" }, machines.map { $0.value.identity.osVersion == nil },
                  machines.map(\.value.first.microseconds), machines.map(\.value.last.microseconds), machines.map(\.value.integration)]) {
            let lowercased = machines[Int(try row.int("n")) - 1].key
            ids[lowercased] = try row.int("id")
            known[lowercased] = (try row.text("os_platform"), try row.optionalText("os_version"))
        }
        guard ids.count == machines.count else { throw StoreError(.notFound, "the machine upsert returned no id for some of the batch's machines") }
        // Data that names another platform or version for a known machine is kept aside for review.
        var claims: [(id: Int64, integration: String, platform: String, version: String, first: Int64, last: Int64)] = []
        for (lowercased, entry) in machines {
            guard let id = ids[lowercased], let stored = known[lowercased] else { continue }
            for claimed in entry.claims {
                let otherPlatform = claimed.platform != .unknown && claimed.platform.rawValue != stored.platform
                let otherVersion = claimed.version.map { storable($0) != stored.version } ?? false
                guard otherPlatform || otherVersion else { continue }
                claims.append((id, entry.integration, claimed.platform.rawValue, storable(claimed.version ?? ""), entry.first.microseconds, entry.last.microseconds))
            }
        }
        if !claims.isEmpty {
            try session.execute("""
                INSERT INTO machine_claims (machine_id, integration, os_platform, os_version, first_seen, last_seen)
                SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[])
                ON CONFLICT (machine_id, integration, os_platform, os_version) DO UPDATE SET
                    first_seen = LEAST(machine_claims.first_seen, excluded.first_seen), last_seen = GREATEST(machine_claims.last_seen, excluded.last_seen)
                """, [claims.map(\.id), claims.map(\.integration), claims.map(\.platform), claims.map(\.version), claims.map(\.first), claims.map(\.last)])
        }
        // One link per machine and integration (a batch is one integration's, but the last
        // integration named per machine is what it stores).
        let links = machines.compactMap { machine in ids[machine.key].map { ($0, machine.value.integration, machine.value.last.microseconds) } }
        try session.execute("""
            INSERT INTO machine_integrations (machine_id, integration, last_seen)
            SELECT * FROM unnest($1::int8[], $2::text[], $3::int8[])
            ON CONFLICT (machine_id, integration) DO UPDATE SET last_seen = GREATEST(machine_integrations.last_seen, excluded.last_seen)
            """, [links.map(\.0), links.map(\.1), links.map(\.2)])
        return lowercasedOfItem.map { ids[$0] ?? 0 }
    }
}

/// A batch's event columns as arrays, for one `unnest` insert. The optional texts (product,
/// category, service) are sent as "" with a bit each in `nulls` that the statement reads back as NULL.
private struct EventColumns {
    var times: [Int64] = [], machines: [Int64] = [], integrations: [String] = [], formats: [String] = []
    var products: [String] = [], categories: [String] = [], services: [String] = [], fields: [String] = [], raws: [String] = []
    var imports: [Int64] = [], lines: [Int64] = [], futureTimes: [Int32] = [], nulls: [Int32] = []

    init(capacity: Int) {
        times.reserveCapacity(capacity)
        raws.reserveCapacity(capacity)
        fields.reserveCapacity(capacity)
    }

    mutating func append(_ event: Event, machineID: Int64, importID: Int64?, futureTime: Bool, fieldsJSON: String) {
        times.append(event.time.microseconds)
        machines.append(machineID)
        integrations.append(event.integration)
        formats.append(event.sourceFormat)
        let source = event.logSource
        products.append(source.product.map(storable) ?? "")
        categories.append(source.category.map(storable) ?? "")
        services.append(source.service.map(storable) ?? "")
        nulls.append((source.product == nil ? 1 : 0) | (source.category == nil ? 2 : 0) | (source.service == nil ? 4 : 0))
        fields.append(storable(fieldsJSON))
        raws.append(storable(event.raw))
        imports.append(importID ?? 0)
        lines.append(Int64(event.line))
        futureTimes.append(futureTime ? 1 : 0)
    }

    /// Parameters 2 to 14 of the insert, for the items at `positions`.
    func arrays(at positions: [Int]) -> [(any PostgresDynamicTypeEncodable)?] {
        func pick<T>(_ column: [T]) -> [T] { positions.count == times.count ? column : positions.map { column[$0] } }
        return [pick(times), pick(machines), pick(integrations), pick(formats), pick(products), pick(categories), pick(services),
                pick(fields), pick(raws), pick(imports), pick(lines), pick(futureTimes), pick(nulls)]
    }
}
