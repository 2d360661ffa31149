import VigilModel

extension Store {
    /// Stores a new subscription, starting after the newest outbox entry (it does not replay the
    /// past), with a fresh signing secret; audited.
    @discardableResult
    public func createSubscription(_ spec: SubscriptionSpec, secret: String, actor: String) throws -> SubscriptionRow {
        try Self.validate(spec)
        return try connection.transaction {
            if try subscription(named: spec.name) != nil {
                throw StoreError(.invalidValue, "a subscription named '\(spec.name)' exists; pick another name or `vigil notify remove \(spec.name)` first")
            }
            let now = Timestamp.now().microseconds
            try connection.statement("""
                INSERT INTO subscriptions (name, transport, target, tls, ca_file, format, min_severity, platforms, rules, kinds,
                    secret, cursor, created_at, created_by)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
                .bind(spec.name, spec.transport.rawValue, spec.target, spec.tls, spec.caFile, spec.format.rawValue,
                      spec.minimumSeverity.rawValue, spec.platforms.joined(separator: ","), spec.rules.joined(separator: ","),
                      spec.kinds.map(\.rawValue).joined(separator: ","), secret, try latestOutboxID(), now, actor)
                .run()
            try appendAudit(actor: actor, action: "notify.add", target: "subscription:\(spec.name)",
                            details: "\(spec.transport.rawValue) \(spec.target) format \(spec.format.rawValue)")
            guard let row = try subscription(named: spec.name) else { throw StoreError(.notFound, "the new subscription was not stored") }
            return row
        }
    }

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

    /// Every subscription, by name.
    public func subscriptions() throws -> [SubscriptionRow] {
        try connection.statement("SELECT \(Self.subscriptionColumns) FROM subscriptions s ORDER BY name").rows(Self.subscriptionRow)
    }

    /// One subscription, or nil.
    public func subscription(named name: String) throws -> SubscriptionRow? {
        try connection.statement("SELECT \(Self.subscriptionColumns) FROM subscriptions s WHERE name = ?").bind(name).firstRow(Self.subscriptionRow)
    }

    /// The subscription named `name`, or an error that says how to list them.
    func requireSubscription(_ name: String) throws -> SubscriptionRow {
        guard let row = try subscription(named: name) else {
            throw StoreError(.notFound, "there is no subscription '\(name)'; see `vigil notify list`")
        }
        return row
    }

    /// Turns a subscription on or off; audited. One turned back on goes on from where it stopped.
    public func setSubscription(_ name: String, enabled: Bool, actor: String) throws {
        try connection.transaction {
            _ = try requireSubscription(name)
            try connection.statement("UPDATE subscriptions SET enabled = ?, attempts = 0, next_attempt_at = 0 WHERE name = ?")
                .bind(enabled, name).run()
            try appendAudit(actor: actor, action: enabled ? "notify.enable" : "notify.disable", target: "subscription:\(name)")
        }
    }

    /// Removes a subscription and its dead letters; audited.
    public func removeSubscription(_ name: String, actor: String) throws {
        try connection.transaction {
            let row = try requireSubscription(name)
            try connection.statement("DELETE FROM dead_letters WHERE subscription_id = ?").bind(row.id).run()
            try connection.statement("DELETE FROM subscriptions WHERE id = ?").bind(row.id).run()
            try appendAudit(actor: actor, action: "notify.remove", target: "subscription:\(name)")
        }
    }

    /// Records a test message sent to a subscription (its outcome), in the audit log.
    public func recordSubscriptionTest(_ name: String, outcome: String, actor: String) throws {
        try appendAudit(actor: actor, action: "notify.test", target: "subscription:\(name)", details: outcome)
    }

    /// A subscription's dead letters, newest first.
    public func deadLetters(of name: String, limit: Int = 100) throws -> [DeadLetterRow] {
        let row = try requireSubscription(name)
        return try connection.statement("""
            SELECT outbox_id, attempts, error, failed_at FROM dead_letters WHERE subscription_id = ? ORDER BY outbox_id DESC LIMIT ?
            """).bind(row.id, limit).rows {
                DeadLetterRow(outboxID: $0.int("outbox_id"), attempts: Int($0.int("attempts")), error: $0.text("error"), failedAt: $0.time("failed_at"))
            }
    }

    /// Sends a subscription's dead letters again: delivery goes back to the oldest one and
    /// resends from there (entries it already delivered after it are sent again, once). Audited.
    @discardableResult
    public func redeliverDeadLetters(of name: String, actor: String) throws -> Int {
        try connection.transaction {
            let row = try requireSubscription(name)
            guard let oldest = try connection.statement("SELECT MIN(outbox_id) AS oldest FROM dead_letters WHERE subscription_id = ?")
                .bind(row.id).firstRow({ $0.optionalInt("oldest") }) ?? nil else { return 0 }
            try connection.statement("DELETE FROM dead_letters WHERE subscription_id = ?").bind(row.id).run()
            let count = connection.changes
            try connection.statement("UPDATE subscriptions SET cursor = MIN(cursor, ?), attempts = 0, next_attempt_at = 0 WHERE id = ?")
                .bind(oldest - 1, row.id).run()
            try appendAudit(actor: actor, action: "notify.redeliver", target: "subscription:\(name)", details: "\(count) dead letters, from outbox \(oldest)")
            return count
        }
    }

    // MARK: Delivery workers

    /// The subscriptions that have something to send now: enabled, behind the outbox, not
    /// waiting for a retry, and not leased by another worker. Reads only, so an idle worker
    /// never takes the write lock.
    public func subscriptionsDue(now: Timestamp, worker: String) throws -> [SubscriptionRow] {
        let latest = try latestOutboxID()
        return try connection.statement("""
            SELECT \(Self.subscriptionColumns) FROM subscriptions s
            WHERE enabled = 1 AND cursor < ? AND next_attempt_at <= ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)
            ORDER BY id
            """).bind(latest, now.microseconds, worker, now.microseconds).rows(Self.subscriptionRow)
    }

    /// Leases subscription `id` to `worker` until `until`, unless another worker holds a lease
    /// that has not run out. Returns whether `worker` has it.
    public func leaseSubscription(_ id: Int64, worker: String, now: Timestamp, until: Timestamp) throws -> Bool {
        try connection.statement("""
            UPDATE subscriptions SET lease_owner = ?, lease_until = ?
            WHERE id = ? AND enabled = 1 AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)
            """).bind(worker, until.microseconds, id, worker, now.microseconds).run()
        return connection.changes > 0
    }

    /// Gives back the leases `worker` holds (at shutdown).
    public func releaseSubscriptionLeases(worker: String) throws {
        try connection.statement("UPDATE subscriptions SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = ?").bind(worker).run()
    }

    /// Moves a subscription's cursor to `outboxID`: `sent` entries up to it were delivered and
    /// the others were not wanted. Clears the retry state and renews the lease until
    /// `leaseUntil`. Only the lease holder moves it.
    public func advanceSubscription(_ id: Int64, through outboxID: Int64, sent: Int, worker: String, now: Timestamp,
                                    leaseUntil: Timestamp) throws {
        try connection.statement("""
            UPDATE subscriptions SET cursor = MAX(cursor, ?), attempts = 0, next_attempt_at = 0, delivered = delivered + ?,
                last_delivered_at = CASE WHEN ? > 0 THEN ? ELSE last_delivered_at END, lease_until = MAX(lease_until, ?)
            WHERE id = ? AND lease_owner = ?
            """).bind(outboxID, sent, sent, now.microseconds, leaseUntil.microseconds, id, worker).run()
    }

    /// Records a failed try of the entry after the cursor: the next try waits until `retryAt`.
    public func recordDeliveryFailure(_ id: Int64, error: String, retryAt: Timestamp, worker: String, now: Timestamp) throws {
        try connection.statement("""
            UPDATE subscriptions SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, last_error_at = ?
            WHERE id = ? AND lease_owner = ?
            """).bind(retryAt.microseconds, String(error.prefix(500)), now.microseconds, id, worker).run()
    }

    /// Gives up on outbox entry `outboxID` after `attempts` tries: it becomes a dead letter and
    /// delivery goes on with the entries after it.
    public func deadLetter(_ id: Int64, outboxID: Int64, attempts: Int, error: String, worker: String, now: Timestamp) throws {
        try connection.transaction {
            try connection.statement("""
                INSERT INTO dead_letters (subscription_id, outbox_id, attempts, error, failed_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET attempts = excluded.attempts, error = excluded.error, failed_at = excluded.failed_at
                """).bind(id, outboxID, attempts, String(error.prefix(500)), now.microseconds).run()
            try connection.statement("""
                UPDATE subscriptions SET cursor = MAX(cursor, ?), attempts = 0, next_attempt_at = 0, last_error = ?, last_error_at = ?
                WHERE id = ? AND lease_owner = ?
                """).bind(outboxID, String(error.prefix(500)), now.microseconds, id, worker).run()
        }
    }

    static let subscriptionColumns = """
        s.id, s.name, s.transport, s.target, s.tls, s.ca_file, s.format, s.min_severity, s.platforms, s.rules, s.kinds, s.secret,
            s.enabled, s.cursor, s.attempts, s.next_attempt_at, s.last_error, s.last_error_at, s.delivered, s.last_delivered_at,
            (SELECT COUNT(*) FROM outbox o WHERE o.id > s.cursor) AS backlog,
            (SELECT COUNT(*) FROM dead_letters d WHERE d.subscription_id = s.id) AS dead_letters, s.created_at, s.created_by
        """

    static func subscriptionRow(_ row: Row) -> SubscriptionRow {
        func list(_ column: String) -> [String] { row.text(column).split(separator: ",").map(String.init) }
        let spec = SubscriptionSpec(
            name: row.text("name"), transport: DeliveryTransport(rawValue: row.text("transport")) ?? .webhook, target: row.text("target"),
            tls: row.bool("tls"), caFile: row.optionalText("ca_file"), format: DeliveryFormat(rawValue: row.text("format")) ?? .json,
            minimumSeverity: Severity(rawValue: Int(row.int("min_severity"))) ?? .informational, platforms: list("platforms"),
            rules: list("rules"), kinds: list("kinds").compactMap(OutboxKind.init(rawValue:)))
        return SubscriptionRow(
            id: row.int("id"), spec: spec, secret: row.text("secret"), enabled: row.bool("enabled"), cursor: row.int("cursor"),
            attempts: Int(row.int("attempts")), nextAttemptAt: row.time("next_attempt_at"), lastError: row.optionalText("last_error"),
            lastErrorAt: row.optionalTime("last_error_at"), delivered: row.int("delivered"), lastDeliveredAt: row.optionalTime("last_delivered_at"),
            backlog: row.int("backlog"), deadLetters: row.int("dead_letters"), createdAt: row.time("created_at"), createdBy: row.text("created_by"))
    }
}

/// A syslog receiver's address, `host:port` or `[v6]:port`.
public struct SyslogAddress: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init?(_ text: String) {
        let hostPart: Substring, portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") { return nil }
        }
        guard !hostPart.isEmpty, hostPart.count <= 253, !hostPart.contains(where: { $0.isWhitespace || $0 == "/" }),
              let port = Int(portPart), (1...65_535).contains(port) else { return nil }
        host = String(hostPart)
        self.port = port
    }
}
