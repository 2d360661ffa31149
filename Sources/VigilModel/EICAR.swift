/// The EICAR antivirus test file: what the detection test writes, and the built-in rule
/// (`rules/builtin/vigil_eicar_test_file.yml`) whose alert proves the path end to end.
public enum EICAR {
    /// The 68-byte test string; harmless, and every antivirus detects a file holding it.
    public static let testString = #"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"#
    /// The id of the built-in rule "EICAR test file detected".
    public static let ruleID = "3c6b2a9e-5f0d-4e8a-9b7c-0e1d2f3a4b5c"
}
