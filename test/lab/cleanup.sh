#!/bin/bash
# Removes what router labs left behind (test/lab/lab.ts cleans up after itself; this is for labs of
# processes that were SIGKILLed, or a machine in a bad state).
#
#   test/lab/cleanup.sh            labs whose owner process is gone (safe while other tests run)
#   test/lab/cleanup.sh --all      every lab, including running ones
#   test/lab/cleanup.sh lt4711a    the lab(s) with these prefixes
#
# A lab is: namespaces <prefix>-r, <prefix>-isp, <prefix>-hN; the root-namespace veth <prefix>c
# (with its 198.51.100.0/24 route); state in ${LANTOP_LAB_STATE:-/run/lantop-lab}/<prefix>.
set -u
state="${LANTOP_LAB_STATE:-/run/lantop-lab}"
ns_pattern='^(lt[0-9]{1,4}[a-z])-(r|isp|h[0-9]{1,2})$'

if [[ $(id -u) -ne 0 ]]; then
  echo "cleanup.sh: needs root" >&2
  exit 1
fi

mode=stale
declare -A wanted=()
for arg in "$@"; do
  case "$arg" in
    --all) mode=all ;;
    lt[0-9]*) mode=named; wanted["$arg"]=1 ;;
    *) echo "usage: $0 [--all | PREFIX...]" >&2; exit 2 ;;
  esac
done

owner_alive() { # prefix -> 0 when the lab's owner process still runs
  local pid
  pid=$(head -n 1 "$state/$1/owner" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

selected() { # prefix -> 0 when this run should remove it
  case "$mode" in
    all) return 0 ;;
    named) [[ -n "${wanted[$1]:-}" ]] ;;
    stale) ! owner_alive "$1" ;;
  esac
}

declare -A prefixes=()
while read -r ns _; do
  [[ "$ns" =~ $ns_pattern ]] && prefixes["${BASH_REMATCH[1]}"]=1
done < <(ip netns list 2>/dev/null)
for dir in "$state"/lt*; do
  [[ -d "$dir" ]] && prefixes["$(basename "$dir")"]=1
done
while read -r _ ifname _; do
  ifname="${ifname%%@*}"; ifname="${ifname%:}"
  [[ "$ifname" =~ ^(lt[0-9]{1,4}[a-z])c$ ]] && prefixes["${BASH_REMATCH[1]}"]=1
done < <(ip -o link show 2>/dev/null)

removed=0
for prefix in "${!prefixes[@]}"; do
  selected "$prefix" || continue
  while read -r ns _; do
    [[ "$ns" =~ $ns_pattern && "${BASH_REMATCH[1]}" == "$prefix" ]] || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done < <(ip netns list 2>/dev/null)
  ip link del "${prefix}c" 2>/dev/null
  rm -rf -- "${state:?}/$prefix"
  echo "cleanup.sh: removed lab $prefix"
  removed=$((removed + 1))
done

# The console lock of a dead owner (or of a removed lab when --all).
if [[ -f "$state/console.lock/owner" ]]; then
  lock_pid=$(head -n 1 "$state/console.lock/owner")
  if [[ "$mode" == all ]] || ! kill -0 "$lock_pid" 2>/dev/null; then
    rm -rf -- "${state:?}/console.lock"
    echo "cleanup.sh: released the console lock of pid $lock_pid"
  fi
fi
echo "cleanup.sh: $removed lab(s) removed"
