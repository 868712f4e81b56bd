#!/bin/bash
# A Broadcom-style router CLI (the "cmsCli" of D-Link/TP-Link DSL routers), used as the login program of
# the lab's real BusyBox telnetd:  busybox telnetd -F -p 23 -l broadcom-cli.sh
# It runs on the pty telnetd gives it, inside the lab router's network and mount namespaces.
#
# Environment (set by test/lab/lab.ts when it starts telnetd):
#   LAB_USER, LAB_PASSWORD   credentials
#   LAB_LANHOSTS             the lab's lease table: one host per line, TAB-separated:
#                            MAC, IP, lease expiry (unix seconds), hostname (raw bytes, may be empty)
#   LAB_ROUTER_SH            the BusyBox shell wrapper behind `sh`
#   LAB_BANNER               first line printed on connect
#
# SECURITY: everything typed and everything in the lease table is hostile. Nothing is ever passed to
# eval, `sh -c`, or an unquoted expansion: `read -a` splits on blanks without glob or $() expansion and
# iptables gets the words as an argument array, exactly like execve.
set -u
set -f
export LC_ALL=C

user="${LAB_USER:-admin}"
password="${LAB_PASSWORD:-admin}"
lanhosts="${LAB_LANHOSTS:-/dev/null}"
router_sh="${LAB_ROUTER_SH:-/bin/sh}"

printf '%s\n' "${LAB_BANNER:-BCM96358 Broadband Router}"

# Login: three tries, as on the real firmware.
tries=0
while :; do
  printf 'Login: '
  IFS= read -r login || exit 0
  login="${login%$'\r'}"
  printf 'Password: '
  IFS= read -r -s pass || exit 0
  pass="${pass%$'\r'}"
  printf '\n'
  if [[ "$login" == "$user" && "$pass" == "$password" ]]; then
    break
  fi
  tries=$((tries + 1))
  if (( tries >= 3 )); then
    printf 'Authorization failed after trying 3 times!!!.\n'
    exit 1
  fi
  printf 'Login incorrect. Try again.\n'
done

lanhosts_show_all() {
  local now mac ip expiry name left
  now=$(date +%s)
  printf 'Bridge br0\n'
  printf '   MAC Addr          IP Addr     Lease Time Remaining    Hostname\n'
  [[ -r "$lanhosts" ]] || return 0
  while IFS=$'\t' read -r mac ip expiry name; do
    [[ -n "$mac" ]] || continue
    left=$((expiry - now))
    (( left < 0 )) && left=0
    printf '%s  %s        %s              %s\n' "$mac" "$ip" "$left" "$name"
  done < "$lanhosts"
}

uptime_seconds() {
  local up _
  read -r up _ < /proc/uptime
  printf '%s' "$up"
}

cli_help() {
  printf '%s\n' '?' help logout exit quit arp cat echo iptables lanhosts sh
}

while :; do
  printf ' > '
  IFS= read -r line || exit 0
  line="${line%$'\r'}"
  # Blank-separated words; no quoting, globbing or substitution (the real CLI has none either).
  read -r -a words <<< "$line" || true
  (( ${#words[@]} == 0 )) && continue
  case "${words[0]}" in
    arp)
      if [[ "${words[1]:-}" == show && ${#words[@]} == 2 ]]; then
        cat /proc/net/arp
      else
        printf '\nUsage: arp add <IP address> <MAC address>\n       arp delete <IP address>\n       arp show\n       arp --help\n'
      fi
      ;;
    lanhosts)
      if [[ "${words[1]:-}" == show && "${words[2]:-}" == all && ${#words[@]} == 3 ]]; then
        lanhosts_show_all
      elif [[ "${words[1]:-}" == show && "${words[2]:-}" == br0 && ${#words[@]} == 3 ]]; then
        lanhosts_show_all | tail -n +2
      else
        printf '\nUsage: lanhosts show all\n       lanhosts show brx\n       lanhosts help\n'
      fi
      ;;
    # Passed through to the real programs, as the CMS CLI does: an argument array, never a shell.
    iptables)
      iptables "${words[@]:1}"
      ;;
    cat)
      (( ${#words[@]} > 1 )) && cat -- "${words[@]:1}"
      ;;
    echo)
      printf '%s\n' "${words[*]:1}"
      ;;
    sh)
      # The wrapper sets PS1='# ' and PATH (lab iptables first); `exit` there comes back here.
      "$router_sh"
      ;;
    help|'?')
      cli_help
      ;;
    logout|exit|quit)
      printf '\nBye bye. Have a nice day!!!\n'
      exit 0
      ;;
    *)
      printf 'telnetd:error:%s:processInput:406:unrecognized command %s\n' "$(uptime_seconds)" "$line"
      ;;
  esac
done
