#!/usr/bin/env bash
# Captures what the real iptables-legacy prints for every command in testdata/iptables-scenarios.txt,
# each scenario inside a throwaway network namespace (never touches the host's rules).
# Output: testdata/iptables-1.8.9-legacy.json, the expectations of iptables.test.ts.
# Needs root and the Debian packages iproute2, iptables, jq. Run: sudo src/emulator/capture-iptables.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
scenarios="$here/testdata/iptables-scenarios.txt"
out="$here/testdata/iptables-$(iptables-legacy --version | sed -E 's/^iptables v([0-9.]+) \((legacy)\)$/\1-\2/').json"
ns="lantop-emu-$$"
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
tmp="$(mktemp -d)"; trap 'cleanup; rm -rf "$tmp"' EXIT
results="[]"
scenario=""
steps="[]"
flush() {
  if [[ -n "$scenario" ]]; then
    results="$(jq --arg name "$scenario" --argjson steps "$steps" '. + [{name: $name, steps: $steps}]' <<<"$results")"
  fi
}
while IFS= read -r line || [[ -n "$line" ]]; do
  [[ -z "$line" || "$line" == \#\ * || "$line" == "#" ]] && continue
  if [[ "$line" == "### "* ]]; then
    flush
    scenario="${line#\#\#\# }"; steps="[]"
    cleanup; ip netns add "$ns"
    continue
  fi
  set +e
  ip netns exec "$ns" sh -c "iptables-legacy $line" >"$tmp/out" 2>"$tmp/err"
  status=$?
  set -e
  steps="$(jq --arg args "$line" --rawfile stdout "$tmp/out" --rawfile stderr "$tmp/err" --argjson status "$status" \
    '. + [{args: $args, stdout: $stdout, stderr: $stderr, status: $status}]' <<<"$steps")"
done <"$scenarios"
flush
jq --arg version "$(iptables-legacy --version)" --arg kernel "$(uname -r)" \
  '{capturedWith: $version, kernel: $kernel, note: "Raw captures; iptables.test.ts maps 1.8.9 -n protocol numbers and version banner to 1.4 output", scenarios: .}' \
  <<<"$results" >"$out"
echo "wrote $out"
