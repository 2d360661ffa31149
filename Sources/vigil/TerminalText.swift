extension String {
    /// The text with every character a terminal would act on shown as an escape, so event
    /// data (attacker-controlled) can neither clear, retitle nor rewrite the analyst's screen:
    /// C0 controls and DEL (`\e`, `\a`, `\r`, `\n`, `\t`, else `\xHH`), C1 controls and the
    /// Unicode bidirectional overrides and isolates (`\u{HHHH}`), which can reorder what is shown.
    var terminalSafe: String {
        guard unicodeScalars.contains(where: Self.needsEscape) else { return self }
        var escaped = ""
        escaped.reserveCapacity(utf8.count + 16)
        for scalar in unicodeScalars {
            guard Self.needsEscape(scalar) else {
                escaped.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\u{1B}": escaped += "\\e"
            case "\u{07}": escaped += "\\a"
            case "\r": escaped += "\\r"
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            default:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                escaped += scalar.value <= 0x7F
                    ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                    : "\\u{" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "}"
            }
        }
        return escaped
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
