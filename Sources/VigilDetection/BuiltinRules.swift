/// Vigil's own rule pack, written in Sigma and embedded from `rules/builtin/` at build time
/// (see scripts/embed-resources.sh).
enum BuiltinRules {}
