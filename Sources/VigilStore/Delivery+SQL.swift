import VigilModel

/// Delivery's state, on either store: subscriptions with their cursors and leases, dead
/// letters, and the outbox they read. The SQL is written once, for both dialects, below.
public protocol DeliveryStore: AnyObject {
    /// Stores a new subscription, starting after the newest outbox entry (it does not replay the
    /// past), with a fresh signing secret; audited.
    @discardableResult
    func createSubscription(_ spec: SubscriptionSpec, secret: String, actor: String) throws -> SubscriptionRow
    /// Every subscription, by name.
    func subscriptions() throws -> [SubscriptionRow]
    /// One subscription, or nil.
    func subscription(named name: String) throws -> SubscriptionRow?
    /// Turns a subscription on or off; audited. One turned back on goes on from where it stopped.
    func setSubscription(_ name: String, enabled: Bool, actor: String) throws
    /// Removes a subscription and its dead letters; audited.
    func removeSubscription(_ name: String, actor: String) throws
    /// Records a test message sent to a subscription (its outcome), in the audit log.
    func recordSubscriptionTest(_ name: String, outcome: String, actor: String) throws
    /// A subscription's dead letters, newest first.
    func deadLetters(of name: String, limit: Int) throws -> [DeadLetterRow]
    /// Sends a subscription's dead letters again: delivery goes back to the oldest one and
    /// resends from there (entries it already delivered after it are sent again, once). Audited.
    @discardableResult
    func redeliverDeadLetters(of name: String, actor: String) throws -> Int
    /// The subscriptions that have something to send now: enabled, behind the outbox, not
    /// waiting for a retry, and not leased by another worker. Reads only, so an idle worker
    /// never takes SQLite's write lock.
    func subscriptionsDue(now: Timestamp, worker: String) throws -> [SubscriptionRow]
    /// Leases subscription `id` to `worker` until `until`, unless another worker holds a lease
    /// that has not run out. Returns whether `worker` has it.
    func leaseSubscription(_ id: Int64, worker: String, now: Timestamp, until: Timestamp) throws -> Bool
    /// Gives back the leases `worker` holds (at shutdown).
    func releaseSubscriptionLeases(worker: String) throws
    /// Moves a subscription's cursor to `outboxID`: `sent` entries up to it were delivered and
    /// the others were not wanted. Clears the retry state and renews the lease until
    /// `leaseUntil`. Only the lease holder moves it.
    func advanceSubscription(_ id: Int64, through outboxID: Int64, sent: Int, worker: String, now: Timestamp, leaseUntil: Timestamp) throws
    /// Records a failed try of the entry after the cursor: the next try waits until `retryAt`.
    func recordDeliveryFailure(_ id: Int64, error: String, retryAt: Timestamp, worker: String, now: Timestamp) throws
    /// Gives up on outbox entry `outboxID` after `attempts` tries: it becomes a dead letter and
    /// delivery goes on with the entries after it.
    func deadLetter(_ id: Int64, outboxID: Int64, attempts: Int, error: String, worker: String, now: Timestamp) throws
    /// Outbox entries after `id`, oldest first, each with its alert or incident as it is now.
    func outbox(after id: Int64, limit: Int) throws -> [OutboxEntry]
    /// The newest outbox id (0 when empty): where a new subscription or stream starts.
    func latestOutboxID() throws -> Int64
}

extension DeliveryStore {
    /// A subscription's newest 100 dead letters.
    public func deadLetters(of name: String) throws -> [DeadLetterRow] { try deadLetters(of: name, limit: 100) }
}

extension DeliveryStore where Self: SQLWriter & AlertQueries & AuditLog {
    @discardableResult
    public func createSubscription(_ spec: SubscriptionSpec, secret: String, actor: String) throws -> SubscriptionRow {
        try SubscriptionSpec.validate(spec)
        return try inTransaction {
            if try subscription(named: spec.name) != nil {
                throw StoreError(.invalidValue, "a subscription named '\(spec.name)' exists; pick another name or `vigil notify remove \(spec.name)` first")
            }
            try write("""
                INSERT INTO subscriptions (name, transport, target, tls, ca_file, format, min_severity, platforms, rules, kinds,
                    secret, cursor, created_at, created_by)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(spec.name), .text(spec.transport.rawValue), .text(spec.target), .int(spec.tls ? 1 : 0),
                      spec.caFile.map(SQLParameter.text) ?? .null, .text(spec.format.rawValue), .int(spec.minimumSeverity.rawValue),
                      .text(spec.platforms.joined(separator: ",")), .text(spec.rules.joined(separator: ",")),
                      .text(spec.kinds.map(\.rawValue).joined(separator: ",")), .text(secret), .int(try latestOutboxID()),
                      .int(Timestamp.now().microseconds), .text(actor)])
            try appendAudit(actor: actor, action: "notify.add", target: "subscription:\(spec.name)",
                            details: "\(spec.transport.rawValue) \(spec.target) format \(spec.format.rawValue)")
            guard let row = try subscription(named: spec.name) else { throw StoreError(.notFound, "the new subscription was not stored") }
            return row
        }
    }

    public func subscriptions() throws -> [SubscriptionRow] {
        try read("SELECT \(subscriptionColumns) FROM subscriptions s ORDER BY name", [], SubscriptionRow.init(row:))
    }

    public func subscription(named name: String) throws -> SubscriptionRow? {
        try readFirst("SELECT \(subscriptionColumns) FROM subscriptions s WHERE name = ?", [.text(name)], SubscriptionRow.init(row:))
    }

    /// The subscription named `name`, or an error that says how to list them.
    private func requireSubscription(_ name: String) throws -> SubscriptionRow {
        guard let row = try subscription(named: name) else {
            throw StoreError(.notFound, "there is no subscription '\(name)'; see `vigil notify list`")
        }
        return row
    }

    public func setSubscription(_ name: String, enabled: Bool, actor: String) throws {
        try inTransaction {
            _ = try requireSubscription(name)
            try write("UPDATE subscriptions SET enabled = ?, attempts = 0, next_attempt_at = 0 WHERE name = ?", [.int(enabled ? 1 : 0), .text(name)])
            try appendAudit(actor: actor, action: enabled ? "notify.enable" : "notify.disable", target: "subscription:\(name)", details: "")
        }
    }

    public func removeSubscription(_ name: String, actor: String) throws {
        try inTransaction {
            let row = try requireSubscription(name)
            try write("DELETE FROM dead_letters WHERE subscription_id = ?", [.int(row.id)])
            try write("DELETE FROM subscriptions WHERE id = ?", [.int(row.id)])
            try appendAudit(actor: actor, action: "notify.remove", target: "subscription:\(name)", details: "")
        }
    }

    public func recordSubscriptionTest(_ name: String, outcome: String, actor: String) throws {
        try appendAudit(actor: actor, action: "notify.test", target: "subscription:\(name)", details: outcome)
    }

    public func deadLetters(of name: String, limit: Int) throws -> [DeadLetterRow] {
        let row = try requireSubscription(name)
        return try read("""
            SELECT outbox_id, attempts, error, failed_at FROM dead_letters WHERE subscription_id = ? ORDER BY outbox_id DESC LIMIT ?
            """, [.int(row.id), .int(limit)]) {
                DeadLetterRow(outboxID: try $0.int("outbox_id"), attempts: Int(try $0.int("attempts")), error: try $0.text("error"),
                              failedAt: try $0.time("failed_at"))
            }
    }

    @discardableResult
    public func redeliverDeadLetters(of name: String, actor: String) throws -> Int {
        try inTransaction {
            let row = try requireSubscription(name)
            guard let oldest = try readFirst("SELECT MIN(outbox_id) AS oldest FROM dead_letters WHERE subscription_id = ?", [.int(row.id)], {
                try $0.optionalInt("oldest")
            }) ?? nil else { return 0 }
            let count = try write("DELETE FROM dead_letters WHERE subscription_id = ?", [.int(row.id)])
            try write("UPDATE subscriptions SET cursor = \(dialect.least("cursor", "?")), attempts = 0, next_attempt_at = 0 WHERE id = ?",
                      [.int(oldest - 1), .int(row.id)])
            try appendAudit(actor: actor, action: "notify.redeliver", target: "subscription:\(name)",
                            details: "\(count) dead letters, from outbox \(oldest)")
            return count
        }
    }

    // MARK: Delivery workers

    public func subscriptionsDue(now: Timestamp, worker: String) throws -> [SubscriptionRow] {
        try read("""
            SELECT \(subscriptionColumns) FROM subscriptions s
            WHERE enabled = 1 AND cursor < ? AND next_attempt_at <= ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)
            ORDER BY id
            """, [.int(try latestOutboxID()), .int(now.microseconds), .text(worker), .int(now.microseconds)], SubscriptionRow.init(row:))
    }

    public func leaseSubscription(_ id: Int64, worker: String, now: Timestamp, until: Timestamp) throws -> Bool {
        try write("""
            UPDATE subscriptions SET lease_owner = ?, lease_until = ?
            WHERE id = ? AND enabled = 1 AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)
            """, [.text(worker), .int(until.microseconds), .int(id), .text(worker), .int(now.microseconds)]) > 0
    }

    public func releaseSubscriptionLeases(worker: String) throws {
        try write("UPDATE subscriptions SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = ?", [.text(worker)])
    }

    public func advanceSubscription(_ id: Int64, through outboxID: Int64, sent: Int, worker: String, now: Timestamp,
                                    leaseUntil: Timestamp) throws {
        try write("""
            UPDATE subscriptions SET cursor = \(dialect.greatest("cursor", "?")), attempts = 0, next_attempt_at = 0, delivered = delivered + ?,
                last_delivered_at = CASE WHEN ? > 0 THEN ? ELSE last_delivered_at END, lease_until = \(dialect.greatest("lease_until", "?"))
            WHERE id = ? AND lease_owner = ?
            """, [.int(outboxID), .int(sent), .int(sent), .int(now.microseconds), .int(leaseUntil.microseconds), .int(id), .text(worker)])
    }

    public func recordDeliveryFailure(_ id: Int64, error: String, retryAt: Timestamp, worker: String, now: Timestamp) throws {
        try write("""
            UPDATE subscriptions SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, last_error_at = ?
            WHERE id = ? AND lease_owner = ?
            """, [.int(retryAt.microseconds), .text(String(error.prefix(500))), .int(now.microseconds), .int(id), .text(worker)])
    }

    public func deadLetter(_ id: Int64, outboxID: Int64, attempts: Int, error: String, worker: String, now: Timestamp) throws {
        let error = String(error.prefix(500))
        try inTransaction {
            try write("""
                INSERT INTO dead_letters (subscription_id, outbox_id, attempts, error, failed_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (subscription_id, outbox_id) DO UPDATE SET attempts = excluded.attempts, error = excluded.error, failed_at = excluded.failed_at
                """, [.int(id), .int(outboxID), .int(attempts), .text(error), .int(now.microseconds)])
            try write("""
                UPDATE subscriptions SET cursor = \(dialect.greatest("cursor", "?")), attempts = 0, next_attempt_at = 0, last_error = ?, last_error_at = ?
                WHERE id = ? AND lease_owner = ?
                """, [.int(outboxID), .text(error), .int(now.microseconds), .int(id), .text(worker)])
        }
    }

    public func outbox(after id: Int64, limit: Int) throws -> [OutboxEntry] {
        let entries = try read("""
            SELECT id, kind, alert_id, incident_id, changes, created_at FROM outbox WHERE id > ? ORDER BY id LIMIT ?
            """, [.int(id), .int(limit)]) { row in
                OutboxEntry(id: try row.int("id"), kind: OutboxKind(rawValue: try row.text("kind")) ?? .alertUpdated,
                            alertID: try row.optionalInt("alert_id"), incidentID: try row.optionalInt("incident_id"),
                            changes: try row.text("changes"), createdAt: try row.time("created_at"))
            }
        return try entries.map { entry in
            var entry = entry
            if let id = entry.alertID { entry.alert = try alert(id: id) }
            if let id = entry.incidentID { entry.incident = try incident(id: id) }
            return entry
        }
    }

    public func latestOutboxID() throws -> Int64 {
        try readFirst("SELECT COALESCE(MAX(id), 0) AS latest FROM outbox", []) { try $0.int("latest") } ?? 0
    }

    private var subscriptionColumns: String {
        """
        s.id, s.name, s.transport, s.target, s.tls, s.ca_file, s.format, s.min_severity, s.platforms, s.rules, s.kinds, s.secret,
            s.enabled, s.cursor, s.attempts, s.next_attempt_at, s.last_error, s.last_error_at, s.delivered, s.last_delivered_at,
            (SELECT COUNT(*) FROM outbox o WHERE o.id > s.cursor) AS backlog,
            (SELECT COUNT(*) FROM dead_letters d WHERE d.subscription_id = s.id) AS dead_letters, s.created_at, s.created_by
        """
    }
}

extension Store: DeliveryStore {}

extension SubscriptionSpec {
    /// Checks what a subscription names before it is stored.
    static func validate(_ spec: SubscriptionSpec) throws(StoreError) {
        guard !spec.name.isEmpty, spec.name.count <= 64,
              spec.name.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }) else {
            throw StoreError(.invalidValue, "a subscription name is 1 to 64 letters, digits, '-', '_' or '.'")
        }
        guard spec.transport.formats.contains(spec.format) else {
            throw StoreError(.invalidValue, "\(spec.transport.rawValue) carries \(spec.transport.formats.map(\.rawValue).joined(separator: ", ")), not \(spec.format.rawValue)")
        }
        guard !spec.kinds.isEmpty else { throw StoreError(.invalidValue, "a subscription wants at least one change (--on)") }
        switch spec.transport {
        case .webhook:
            let lowercased = spec.target.lowercased()
            guard lowercased.hasPrefix("https://") || lowercased.hasPrefix("http://"), spec.target.count <= 2048,
                  !spec.target.contains(where: { $0.isWhitespace || $0.isNewline }) else {
                throw StoreError(.invalidValue, "a webhook is an http:// or https:// URL without spaces, e.g. https://hooks.example.com/vigil")
            }
        case .syslog:
            guard SyslogAddress(spec.target) != nil else {
                throw StoreError(.invalidValue, "a syslog receiver is HOST:PORT (port 1…65535), e.g. siem.example.com:6514 or [::1]:514")
            }
        }
    }
}

extension SubscriptionRow {
    /// A subscription read from `subscriptionColumns`.
    init(row: any SQLRow) throws {
        func list(_ column: String) throws -> [String] { try row.text(column).split(separator: ",").map(String.init) }
        let spec = try SubscriptionSpec(
            name: row.text("name"), transport: DeliveryTransport(rawValue: row.text("transport")) ?? .webhook, target: row.text("target"),
            tls: row.bool("tls"), caFile: row.optionalText("ca_file"), format: DeliveryFormat(rawValue: row.text("format")) ?? .json,
            minimumSeverity: Severity(rawValue: Int(row.int("min_severity"))) ?? .informational, platforms: list("platforms"),
            rules: list("rules"), kinds: list("kinds").compactMap(OutboxKind.init(rawValue:)))
        try self.init(
            id: row.int("id"), spec: spec, secret: row.text("secret"), enabled: row.bool("enabled"), cursor: row.int("cursor"),
            attempts: Int(row.int("attempts")), nextAttemptAt: row.time("next_attempt_at"), lastError: row.optionalText("last_error"),
            lastErrorAt: row.optionalTime("last_error_at"), delivered: row.int("delivered"), lastDeliveredAt: row.optionalTime("last_delivered_at"),
            backlog: row.int("backlog"), deadLetters: row.int("dead_letters"), createdAt: row.time("created_at"), createdBy: row.text("created_by"))
    }
}
