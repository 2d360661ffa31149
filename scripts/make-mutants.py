#!/usr/bin/env python3
"""Writes scripts/mutants/*.patch, the mutants scripts/mutate.sh applies, from the list below.

Each mutant is (name, file, the exact text it replaces, its replacement, the test suites
expected to kill it as a `swift test --filter` pattern, what it breaks). The text must occur
exactly once in the file. Run it after a change moves the code a mutant targets (mutate.sh then
reports that mutant as "does not apply"), or to add a mutant beside a new test:

    python3 scripts/make-mutants.py && scripts/mutate.sh
"""
import os
import subprocess
import sys

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
if subprocess.run(["git", "diff", "--quiet", "--", "Sources"]).returncode != 0:
    sys.exit("make-mutants.py: Sources/ has uncommitted changes; the patches must be made against committed code")

MUTANTS = [
("end-of-input-import", "Sources/VigilPipeline/BatchReader.swift",
 "            parser.finish(into: &events)\n", "", "ImportEdgeTests|PushEdgeTests",
 "the batch reader never flushes the parser at end of input (a trailing auditd group or pending ClamAV record is lost, by import and push alike)"),
("push-rejected-records", "Sources/VigilServer/IngestController.swift",
 "            pushed.rejected += batch.rejected\n", "", "PushEdgeTests|IngestEndpointTests",
 "an HTTP push drops its rejected records: not stored, counted nor listed in the reply"),
("json-array-escapes", "Sources/VigilIngest/RecordFramer.swift",
 '                else if byte == UInt8(ascii: "\\\\") { escaped = true }\n', "", "JSONEventParserTests|PushEdgeTests",
 "the JSON-array framer ignores backslash escapes inside strings"),
("csv-quote-comma", "Sources/vigil/OutputTable.swift",
 'text.contains(where: { $0 == "," || $0 == "\\"" ||', 'text.contains(where: { $0 == "\\"" ||', "ImportEdgeTests",
 "a CSV field with a comma is not quoted"),
("csv-formula", "Sources/vigil/OutputTable.swift",
 '    if let first = text.unicodeScalars.first, "=+-@\\t\\r".unicodeScalars.contains(first) { text = "\'" + text }\n', "", "ImportEdgeTests",
 "CSV cells starting with = + - @ are no longer neutralized"),
("terminal-escapes", "Sources/vigil/OutputTable.swift",
 'let text = (values[column] ?? "").terminalSafe', 'let text = (values[column] ?? "").replacingOccurrences(of: "\\n", with: " ")', "ImportEdgeTests",
 "table output prints control characters from event data raw"),
("window-late-edge", "Sources/VigilDetection/CorrelationEngine.swift",
 "end.time >= time && end.time <= time + span", "end.time >= time && end.time < time + span", "CorrelationTests",
 "a window ending exactly one timespan after a late event is not checked"),
("window-start-edge", "Sources/VigilDetection/CorrelationEngine.swift",
 "state.entries.filter { $0.time >= end.time - span && $0.time <= end.time }", "state.entries.filter { $0.time > end.time - span && $0.time <= end.time }", "CorrelationTests|ImportDefaultsTests",
 "the event exactly one timespan before the window's end falls out of it"),
("correlation-refire", "Sources/VigilDetection/CorrelationEngine.swift",
 "            state.lastFired = end.time\n", "", "CorrelationTests|CorrelationPipelineTests",
 "a fired correlation fires again for every overlapping window"),
("token-digest-compare", "Sources/VigilIngest/AccessToken.swift",
 "guard let stored = try lookup(digest), AccessToken.constantTimeEqual(stored.hash, digest) else", "guard let stored = try lookup(digest) else", "AccessTokenTests",
 "the gate trusts whatever row the lookup returns"),
("constant-time-accumulate", "Sources/VigilIngest/AccessToken.swift",
 "difference |= lhs[index] ^ rhs[index]", "difference = lhs[index] ^ rhs[index]", "AccessTokenTests",
 "the digest comparison looks only at the last byte"),
("token-expiry-boundary", "Sources/VigilIngest/AccessToken.swift",
 "guard now < stored.expiresAt else", "guard now <= stored.expiresAt else", "AccessTokenTests",
 "a token is still accepted at the instant it expires"),
("token-revoked", "Sources/VigilIngest/AccessToken.swift",
 "        if let revoked = stored.revokedAt { return .failure(.revoked(revoked)) }\n", "", "AccessTokenTests|ServerTests",
 "a revoked token is accepted"),
("token-integration-off", "Sources/VigilIngest/AccessToken.swift",
 "guard let state = try integration(stored.integration), state.enabled else", "guard let state = try integration(stored.integration) else", "AccessTokenTests|IngestEndpointTests",
 "a token of an integration that is off is accepted"),
("gate-format", "Sources/VigilIngest/IngestGate.swift",
 "        if let format, !integration.formats.contains(format) {", "        if let format, integration.formats.isEmpty && !integration.formats.contains(format) {", "IngestGateTests|IngestEndpointTests",
 "an integration is admitted for a format it does not send"),
("gate-off", "Sources/VigilIngest/IngestGate.swift",
 "        guard integration.enabled else { throw .integrationOff(name) }\n", "", "IngestGateTests|CLITests",
 "an import through an integration that is off is admitted"),
("dedupe-window", "Sources/VigilStore/StoreWriter+AlertLedger.swift",
 ".bind(rule, machineID, dedupeKey, time - window, time + window, time, firstTime, window)", ".bind(rule, machineID, dedupeKey, Int64.min, Int64.max, time, firstTime, Int64.max)", "IncidentAndDedupeTests|ImportDefaultsTests",
 "repeat detections fold into an alert however far apart they are"),
("dedupe-key", "Sources/VigilStore/StoreWriter+AlertLedger.swift",
 "WHERE rule_id = ? AND machine_id = ? AND dedupe_key = ? AND status IN", "WHERE rule_id = ? AND machine_id = ? AND dedupe_key = dedupe_key AND ? IS NOT NULL AND status IN", "AlertLifecycleTests",
 "detections of different dedupe keys (signatures) fold together"),
("fold-into-resolved", "Sources/VigilStore/StoreWriter+AlertLedger.swift",
 "AND dedupe_key = ? AND status IN ('new', 'in_progress')\n", "AND dedupe_key = ?\n", "AlertLifecycleTests",
 "a resolved alert absorbs a new detection, which then shows nowhere"),
("dedupe-window-anchor", "Sources/VigilStore/StoreWriter+AlertLedger.swift",
 "              AND MAX(last_event_time, ?) - MIN(first_event_time, ?) <= ?\n", "              AND ? + ? + ? IS NOT NULL\n", "AlertLifecycleTests",
 "each fold widens the dedupe window, so a trickle keeps one alert open for ever"),
("precedence-and", "Sources/VigilDetection/SigmaCondition.swift",
 "left = .and(left, try parseNot())", "left = .and(left, try parseOr())", "SigmaSpecificationTests|ImportDefaultsTests",
 "`and` no longer binds tighter than a following `or`"),
("precedence-not", "Sources/VigilDetection/SigmaCondition.swift",
 "return .not(try parseNot())", "return .not(try parseAnd())", "SigmaSpecificationTests|ImportDefaultsTests",
 "`not` applies to a whole `and` chain"),
("endswith-as-contains", "Sources/VigilDetection/TextPattern.swift",
 "case .suffix: value.count >= needle.count && Self.equal(value, value.count - needle.count, needle, fold: fold)",
 "case .suffix: Self.find(needle, in: value, from: 0, fold: fold) != nil", "SigmaSpecificationTests",
 "endswith matches the needle anywhere"),
("startswith-as-contains", "Sources/VigilDetection/TextPattern.swift",
 "case .prefix: value.count >= needle.count && Self.equal(value, 0, needle, fold: fold)",
 "case .prefix: Self.find(needle, in: value, from: 0, fold: fold) != nil", "SigmaSpecificationTests",
 "startswith matches the needle anywhere"),
("event-key-raw", "Sources/VigilModel/EventKey.swift",
 "        raw.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }\n", "", "ServerTests|ImportPipelineTests|CLITests",
 "events at the same time and category are taken for duplicates whatever their record says"),
("event-key-machine", "Sources/VigilModel/EventKey.swift",
 "        updateCaseFolded(&hasher, hostname)\n", "", "EventIdentityTests|PushEdgeTests",
 "the same record from two machines is taken for one event, and the second machine gets nothing"),
("rate-limit-burst", "Sources/VigilServer/PushRateLimiter.swift",
 "burst = Double(perSecond * 2)", "burst = Double(perSecond * 2 + 1)", "PushRateLimiterTests|HTTPSecurityTests",
 "a token may burst one push more than twice its rate"),
("severity-filter", "Sources/VigilStore/AlertFilter.swift",
 'if let minimumSeverity { add("severity >= ?", minimumSeverity.rawValue) }', 'if let minimumSeverity { add("severity > ?", minimumSeverity.rawValue) }', "CLITests|QueryEndpointTests|StoreTests",
 "--severity high no longer lists high alerts"),
("since-filter", "Sources/VigilStore/AlertFilter.swift",
 'if let since { add("last_event_time >= ?", since.microseconds) }', "", "CLITests|QueryEndpointTests|StoreTests",
 "--since is ignored"),
("integration-off-revokes", "Sources/VigilStore/Store+Integrations.swift",
 "UPDATE access_tokens SET revoked_at = ?, revoked_reason = 'integration turned off' WHERE integration = ? AND revoked_at IS NULL",
 "UPDATE access_tokens SET revoked_at = ?, revoked_reason = 'integration turned off' WHERE integration = ? AND revoked_at IS NULL AND 0",
 "IntegrationTests|HTTPSeedFlowTests|IngestEndpointTests",
 "turning an integration off leaves its tokens valid"),
("disabled-rules", "Sources/VigilDetection/RuleSet.swift",
 "disabled.isEmpty ? self : RuleSet(rules: rules.filter { !disabled.contains($0.info.id) },", "disabled.isEmpty ? self : RuleSet(rules: rules,", "RuleCommandTests",
 "a disabled rule still raises alerts"),
("auditd-hex", "Sources/VigilIngest/AuditdParser.swift",
 "if !quoted, isExecveArgument || Self.hexEncodedKeys.contains(key), let decoded = Self.decodeHex(value) {",
 "if !quoted, Self.hexEncodedKeys.contains(key), let decoded = Self.decodeHex(value) {", "AuditdParserTests",
 "hex-encoded EXECVE arguments are kept as hex"),
("auditd-requires-execve", "Sources/VigilIngest/AuditdParser.swift",
 "        guard group.hasExecve else { return }\n", "", "AuditdParserTests",
 "every auditd group becomes a process_creation event, EXECVE or not"),
("json-nested-keys", "Sources/VigilIngest/JSONFlattener.swift",
 '                if base > 0 { path.append(UInt8(ascii: ".")) }', '                if base > 0 { path.append(UInt8(ascii: "_")) }', "JSONEventParserTests",
 "nested JSON keys are joined with _ rather than ."),
]
out = "scripts/mutants"
for name, path, old, new, tests, what in MUTANTS:
    count = open(path).read().count(old)
    if count != 1:
        sys.exit(f"{name}: its text occurs {count} times in {path}, not once")
for f in os.listdir(out):
    os.remove(os.path.join(out, f))
for n, (name, path, old, new, tests, what) in enumerate(MUTANTS, 1):
    text = open(path).read()
    count = text.count(old)
    if count != 1:
        sys.exit(f"{name}: {count} matches of its text in {path}")
    open(path, 'w').write(text.replace(old, new))
    diff = subprocess.run(['git', 'diff', '--', path], capture_output=True, text=True).stdout
    subprocess.run(['git', 'checkout', '--', path], check=True)
    with open(f'{out}/{n:02d}-{name}.patch', 'w') as f:
        f.write(f"Mutant: {what}.\nTests: {tests}\n\n{diff}")
print(len(MUTANTS), "mutants")
