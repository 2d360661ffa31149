/// Where the SQLite and PostgreSQL stores write the same query differently: the filters that
/// both build (`AlertFilter`) are written once, in the SQLite form, and adjusted here.
public enum SQLDialect: Sendable {
    case sqlite
    case postgresql

    /// `sql` with each `?` (none occurs inside a literal of Vigil's own SQL) as this
    /// dialect's placeholder: `?` for SQLite, `$1`, `$2`, … for PostgreSQL.
    public func placeholders(in sql: String) -> String {
        guard self == .postgresql else { return sql }
        var numbered = ""
        var next = 1
        for character in sql {
            if character == "?" {
                numbered += "$\(next)"
                next += 1
            } else {
                numbered.append(character)
            }
        }
        return numbered
    }

    /// `column = ?`, comparing case-insensitively as host names compare.
    public func caseInsensitiveEquals(_ column: String) -> String {
        switch self {
        case .sqlite: "\(column) = ? COLLATE NOCASE"
        case .postgresql: "lower(\(column)) = lower(?)"
        }
    }

    /// What a SELECT ends with to lock the rows it reads until the transaction ends: nothing on
    /// SQLite, whose writer lock (`BEGIN IMMEDIATE`) serializes whole transactions already.
    public var lockingRows: String {
        switch self {
        case .sqlite: ""
        case .postgresql: " FOR UPDATE"
        }
    }

    /// The larger of two values: SQLite's two-argument `max`, PostgreSQL's `GREATEST`.
    public func greatest(_ first: String, _ second: String) -> String {
        switch self {
        case .sqlite: "max(\(first), \(second))"
        case .postgresql: "GREATEST(\(first), \(second))"
        }
    }

    /// The smaller of two values: SQLite's two-argument `min`, PostgreSQL's `LEAST`.
    public func least(_ first: String, _ second: String) -> String {
        switch self {
        case .sqlite: "min(\(first), \(second))"
        case .postgresql: "LEAST(\(first), \(second))"
        }
    }

    /// The number `column` starts with (`22.04` of "22.04 LTS", 0 when it starts with none), for
    /// sorting versions numerically: SQLite's `CAST(… AS REAL)` reads such a prefix, and
    /// PostgreSQL's cast would refuse the whole text, so it is cut out first there.
    public func leadingNumber(_ column: String) -> String {
        switch self {
        case .sqlite: "CAST(\(column) AS REAL)"
        case .postgresql: "COALESCE(CAST(substring(\(column) from '^[0-9]+(?:\\.[0-9]+)?') AS REAL), 0)"
        }
    }

    /// The aggregate that joins the non-NULL `expression`s of a group with `separator` (a
    /// literal of Vigil's own, never input); `distinct` drops repeats.
    public func joined(_ expression: String, separator: String, distinct: Bool = false) -> String {
        assert(!distinct || separator == ",", "SQLite's group_concat(DISTINCT …) joins with a comma only")
        switch self {
        case .sqlite: return distinct ? "group_concat(DISTINCT \(expression))" : "group_concat(\(expression), '\(separator)')"
        case .postgresql: return "string_agg(\(distinct ? "DISTINCT " : "")\(expression), '\(separator)')"
        }
    }
}

/// A value bound to a placeholder of a query both stores run.
public enum SQLParameter: Sendable, Equatable {
    case int(Int64)
    case text(String)
    case null

    public static func int(_ value: Int) -> SQLParameter { .int(Int64(value)) }

    var sqliteValue: (any SQLValue)? {
        switch self {
        case .int(let number): number
        case .text(let text): text
        case .null: nil
        }
    }
}
