#!/bin/sh
# Refreshes rules/sigmahq/ from a checkout of https://github.com/SigmaHQ/sigma: the Linux and
# macOS rules (all of rules/linux and rules/macos; from rules-emerging-threats and
# rules-threat-hunting those whose logsource.product is linux or macos), the licence files, and
# the commit line of rules/sigmahq/PROVENANCE.md; then re-embeds the pack in the binary.
#
#   git clone https://github.com/SigmaHQ/sigma /tmp/sigma
#   scripts/refresh-sigmahq.sh /tmp/sigma && swift test
set -eu
checkout=${1:?usage: scripts/refresh-sigmahq.sh PATH-TO-SIGMA-CHECKOUT}
cd "$(dirname "$0")/.."
[ -d "$checkout/rules/linux" ] && [ -d "$checkout/rules/macos" ] || {
    echo "refresh-sigmahq: $checkout is not a SigmaHQ checkout (no rules/linux and rules/macos)" >&2
    exit 64
}
target=rules/sigmahq
rm -rf "$target/rules" "$target/rules-emerging-threats" "$target/rules-threat-hunting"
mkdir -p "$target/rules"
cp -R "$checkout/rules/linux" "$checkout/rules/macos" "$target/rules/"
for folder in rules-emerging-threats rules-threat-hunting; do
    [ -d "$checkout/$folder" ] || continue
    (cd "$checkout" && grep -rlE '^[[:space:]]+product:[[:space:]]*(linux|macos)[[:space:]]*$' "$folder" --include='*.yml') |
        while read -r file; do
            mkdir -p "$target/$(dirname "$file")"
            cp "$checkout/$file" "$target/$file"
        done
done
for licence in LICENSE LICENSE.Detection.Rules.md; do
    [ -f "$checkout/$licence" ] && cp "$checkout/$licence" "$target/$licence"
done
if commit=$(git -C "$checkout" log -1 --format='%H (snapshot of %cs)' 2>/dev/null); then
    sed -i "s/^- Commit: .*/- Commit: $commit/" "$target/PROVENANCE.md"
else
    echo "refresh-sigmahq: $checkout is not a git checkout; update the commit line of $target/PROVENANCE.md by hand" >&2
fi
scripts/embed-resources.sh
echo "refresh-sigmahq: $(find "$target" -name '*.yml' | wc -l) rules in $target; now run swift test"
