#!/usr/bin/env bash
# Captures what the real nft prints for every step of testdata/nft-scenarios.txt, each scenario in
# a throwaway network namespace (never touches the host's ruleset), each step run by BusyBox ash
# (`busybox sh -c`, the shell of OpenWrt) with the scripts of testdata/nft/ in
# /tmp/lantop-nft-scenarios/. Output: testdata/nft-<version>.json, the expectations of
# nft-model.test.ts. Needs root and the Debian packages iproute2, nftables, busybox(-static), jq.
# Run: sudo src/emulator/capture-nft.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
scenarios="$here/testdata/nft-scenarios.txt"
version="$(nft -v | sed -E 's/^nftables v([0-9.]+) .*/\1/')"
out="$here/testdata/nft-$version.json"
ns="lantop-nft-$$"
scripts=/tmp/lantop-nft-scenarios
tmp="$(mktemp -d)"
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$tmp" "$scripts"; }
trap cleanup EXIT
mkdir -p "$scripts" && cp "$here"/testdata/nft/*.nft "$scripts"/
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
    ip netns del "$ns" 2>/dev/null || true
    ip netns add "$ns"
    continue
  fi
  set +e
  ip netns exec "$ns" busybox sh -c "$line" >"$tmp/out" 2>"$tmp/err" </dev/null
  status=$?
  set -e
  steps="$(jq --arg line "$line" --rawfile stdout "$tmp/out" --rawfile stderr "$tmp/err" --argjson status "$status" \
    '. + [{line: $line, stdout: $stdout, stderr: $stderr, status: $status}]' <<<"$steps")"
done <"$scenarios"
flush
jq --arg version "$(nft -v)" --arg kernel "$(uname -r)" --arg shell "$(busybox | head -1)" \
  '{capturedWith: $version, kernel: $kernel, shell: $shell, scenarios: .}' <<<"$results" >"$out"
echo "wrote $out"
