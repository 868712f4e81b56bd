#!/bin/bash
# A router vendor CLI, used as the login program of the lab's real telnet server
# (BusyBox `telnetd -l`, or inetutils `telnetd -E` under inetd). Three flavours, each modelled on
# published captures and firmware source (test/lab/SOURCE.md):
#   broadcom-cms  the Broadcom CMS CLI of D-Link/TP-Link/Comtrend/Sagemcom DSL routers, ` > `
#   huawei-atp    Huawei's ATP CLI, `ATP>`
#   tplink        TP-Link's COMMAND-LINE Interface, `TP-Link(conf)#`
# It runs on the pty the telnet server gives it, inside the lab router's network and mount namespaces.
#
# Environment (set by the per-lab wrapper lab-router-files.ts writes; telnet servers may scrub the environment):
#   LAB_USER, LAB_PASSWORD   credentials
#   LAB_LANHOSTS             the lab's lease table: one host per line, TAB-separated:
#                            MAC, IP, lease expiry (unix seconds), hostname (raw bytes, may be empty)
#   LAB_ROUTER_SH            the BusyBox shell wrapper behind the hidden `sh` / `shell`
#   LAB_BANNER               first line the CMS CLI prints on connect
#   LAB_CLI                  broadcom-cms | huawei-atp | tplink
#   LAB_UNKNOWN              telnetd-error | consoled-error | silent | command-failed
#   LAB_LANHOSTS_LAYOUT      cms | sdk
#   LAB_TEXTS                directory with the published texts printed verbatim (help lists, banners)
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
flavour="${LAB_CLI:-broadcom-cms}"
unknown_style="${LAB_UNKNOWN:-telnetd-error}"
layout="${LAB_LANHOSTS_LAYOUT:-cms}"
texts="${LAB_TEXTS:-/nonexistent}"

# Leaves the CLI.
finish() {
  exit "$1"
}

print_text() {
  # A published text, line by line, with the line end the firmware uses ($2).
  local line
  [[ -r "$texts/$1" ]] || return 0
  while IFS= read -r line; do printf "%s$2" "$line"; done < "$texts/$1"
}

# --- login ---------------------------------------------------------------------------------------

case "$flavour" in
  huawei-atp) print_text atp-banner.txt '\n'; login_prompt='Login: '; password_prompt='Password: ' ;;
  tplink) login_prompt='username:'; password_prompt='password:' ;;
  *) printf '%s\n' "${LAB_BANNER:-BCM96358 Broadband Router}"; login_prompt='Login: '; password_prompt='Password: ' ;;
esac

# Three tries, as on the CMS firmware (cli.c: "Login incorrect. Try again.", then
# "Authorization failed after trying %d times!!!."). The other CLIs' refusal texts were not
# published: they just ask again.
tries=0
while :; do
  printf '%s' "$login_prompt"
  IFS= read -r login || finish 0
  login="${login%$'\r'}"
  printf '%s' "$password_prompt"
  IFS= read -r -s pass || finish 0
  pass="${pass%$'\r'}"
  printf '\n'
  if [[ "$login" == "$user" && "$pass" == "$password" ]]; then
    break
  fi
  tries=$((tries + 1))
  if (( tries >= 3 )); then
    [[ "$flavour" == broadcom-cms ]] && printf 'Authorization failed after trying 3 times!!!.\n'
    finish 1
  fi
  [[ "$flavour" == broadcom-cms ]] && printf 'Login incorrect. Try again.\n'
done

case "$flavour" in
  huawei-atp) prompt='ATP>' ;;
  tplink) printf '\n'; print_text tplink-banner.txt '\n'; prompt='TP-Link(conf)#' ;;
  *) prompt=' > ' ;;
esac

# --- commands ------------------------------------------------------------------------------------

lanhosts_show_all() {
  local now mac ip expiry name left
  now=$(date +%s)
  printf 'Bridge br0\n'
  if [[ "$layout" == sdk ]]; then
    # The SDK layout (MitraStar HGU): active flag, MAC, IP, port, VLAN, address source; no name.
    printf 'Active   MAC Addr           IP Addr          ETH port  VLAN ID\n'
    [[ -r "$lanhosts" ]] || return 0
    while IFS=$'\t' read -r mac ip expiry name; do
      [[ -n "$mac" ]] || continue
      printf ' [v]     %s  %-15s  %-8s  %-7s  %s\n' "$mac" "$ip" unknown 0 DHCP
    done < "$lanhosts"
    return 0
  fi
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

# cmsLog's header timestamp: seconds since boot modulo 1000, then milliseconds (logging.c).
cms_log_timestamp() {
  local up _ sec frac
  read -r up _ < /proc/uptime
  sec="${up%%.*}"
  frac="${up#*.}0"
  printf '%u.%03u' "$((10#$sec % 1000))" "$((10#${frac:0:2} * 10))"
}

unknown_command() {
  case "$unknown_style" in
    silent) ;;
    command-failed) print_text atp-command-failed.txt '\n' ;;
    consoled-error) printf 'consoled:error:%s:processInput:395:unrecognized command %s\n' "$(cms_log_timestamp)" "$1" ;;
    *) printf 'telnetd:error:%s:processInput:406:unrecognized command %s\n' "$(uptime_seconds)" "$1" ;;
  esac
}

# The CMS CLI's own commands (cliCmdTable) and its hidden ones (cliHiddenCmdTable: sh, iptables).
cms_command() {
  local line="$1"; shift
  local -a words=("$@")
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
      # processHelpCmd(): the visible table only, "%s\r\n" per command (Comtrend BCM96328 list).
      print_text cms-help.txt '\r\n'
      ;;
    logout|exit|quit)
      printf '\nBye bye. Have a nice day!!!\n'
      finish 0
      ;;
    *)
      unknown_command "$line"
      ;;
  esac
}

atp_command() {
  local line="$1"; shift
  case "$1" in
    help) print_text atp-help.txt '\n' ;;
    '?') print_text atp-question-mark.txt '\n' ;;
    # Listed by `?`; what they print was not published, so they print nothing here.
    cls|debug|save) ;;
    shell) "$router_sh" ;;
    exit) finish 0 ;;
    *) unknown_command "$line" ;;
  esac
}

tplink_command() {
  local line="$1"; shift
  case "$1" in
    help) print_text tplink-help.txt '\n' ;;
    sh) "$router_sh" ;;
    logout|exit) finish 0 ;;
    *) unknown_command "$line" ;;
  esac
}

while :; do
  printf '%s' "$prompt"
  IFS= read -r line || finish 0
  line="${line%$'\r'}"
  # Blank-separated words; no quoting, globbing or substitution (the real CLIs have none either).
  read -r -a words <<< "$line" || true
  (( ${#words[@]} == 0 )) && continue
  case "$flavour" in
    huawei-atp) atp_command "$line" "${words[@]}" ;;
    tplink) tplink_command "$line" "${words[@]}" ;;
    *) cms_command "$line" "${words[@]}" ;;
  esac
done
