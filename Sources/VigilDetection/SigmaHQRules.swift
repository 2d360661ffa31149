/// SigmaHQ's Linux and macOS rules, vendored under `rules/sigmahq/` (Detection Rule License
/// 1.1; upstream commit in `rules/sigmahq/PROVENANCE.md`) and embedded at build time (see
/// scripts/embed-resources.sh). With `BuiltinRules`, the `default` pack.
enum SigmaHQRules {}
