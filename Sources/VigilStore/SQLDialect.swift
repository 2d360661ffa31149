/// Where the SQLite and PostgreSQL stores write the same query differently: the filters that
/// both build (`AlertFilter`) are written once, in the SQLite form, and adjusted here.
package enum SQLDialect: Sendable {
    case sqlite
    case postgresql

    /// `condition` with each `?` (none occurs inside a literal of Vigil's own filter SQL) as
    /// this dialect's placeholder: `?` for SQLite, `$n` from `first` on for PostgreSQL.
    package func placeholders(in condition: String, startingAt first: Int) -> String {
        guard self == .postgresql else { return condition }
        var numbered = ""
        var next = first
        for character in condition {
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
    package func caseInsensitiveEquals(_ column: String) -> String {
        switch self {
        case .sqlite: "\(column) = ? COLLATE NOCASE"
        case .postgresql: "lower(\(column)) = lower(?)"
        }
    }
}

/// A value bound to a placeholder of a query both stores run.
package enum SQLParameter: Sendable, Equatable {
    case int(Int64)
    case text(String)

    static func int(_ value: Int) -> SQLParameter { .int(Int64(value)) }

    var sqliteValue: (any SQLValue)? {
        switch self {
        case .int(let number): number
        case .text(let text): text
        }
    }
}
