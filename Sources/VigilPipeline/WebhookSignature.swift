import Crypto
import Foundation
import VigilModel

/// The `X-Vigil-Signature` header of a webhook: `t=<unix seconds>,v1=<hex HMAC-SHA-256>`, the
/// HMAC keyed with the subscription's secret over `<t>.<body>`. A receiver recomputes it, compares
/// in constant time, and refuses a `t` more than five minutes from its clock (a replayed request).
public enum WebhookSignature {
    public static let headerName = "X-Vigil-Signature"
    /// How far a signature's time may be from the receiver's clock.
    public static let tolerance: Duration = .seconds(300)

    /// A fresh signing secret: 32 random bytes, hex.
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// The header value for `body` sent at `time`.
    public static func sign(body: [UInt8], secret: String, time: Timestamp) -> String {
        let seconds = time.microseconds / 1_000_000
        let code = HMAC<SHA256>.authenticationCode(for: signedBytes(seconds: seconds, body: body), using: SymmetricKey(data: Array(secret.utf8)))
        return "t=\(seconds),v1=" + code.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `header` signs `body` with `secret`, at a time within `tolerance` of `now`.
    public static func verify(header: String, body: [UInt8], secret: String, now: Timestamp, tolerance: Duration = tolerance) -> Bool {
        var seconds: Int64?, signatures: [[UInt8]] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { seconds = Int64(pair[1]) }
            if pair[0] == "v1", let bytes = hexBytes(pair[1]) { signatures.append(bytes) }
        }
        guard let seconds, abs(now.microseconds / 1_000_000 - seconds) <= tolerance.components.seconds else { return false }
        let key = SymmetricKey(data: Array(secret.utf8))
        let signed = signedBytes(seconds: seconds, body: body)
        return signatures.contains { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: signed, using: key) }
    }

    static func signedBytes(seconds: Int64, body: [UInt8]) -> [UInt8] { Array("\(seconds).".utf8) + body }

    static func hexBytes(_ text: Substring) -> [UInt8]? {
        guard text.count == 64 else { return nil }
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
