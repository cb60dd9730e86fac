#!/usr/bin/env bash
# The synack demo: a TAP device whose Linux side is 10.77.0.1/24 with dnsmasq as DHCP and DNS server, and
# synack-tap on the other side getting its address by DHCP. Shows, each step checked:
#   1. synack's lease (DHCP), then Linux pinging synack and echoing a line through synack's TCP echo server;
#   2. curl fetching a page from synack's HTTP server, by name through dnsmasq;
#   3. synack's own `get` resolving a name through dnsmasq and fetching a page Linux serves;
#   4. what tshark captured on the link.
#
# In a container (SYNACK_IN_CONTAINER=1, set by container/Dockerfile) the container's own network namespace
# is the demo's. Anywhere else the script first makes a namespace of its own, runs inside it and deletes it at
# the end: it never adds a device or an address outside a namespace it created. Needs root (or CAP_NET_ADMIN
# and /dev/net/tun), ip, ping, nc, curl, tshark and dnsmasq. SYNACK_TAP names the synack-tap binary (default:
# the one on PATH). Every wait is bounded; everything started is stopped on exit, also on failure.
set -euo pipefail

if [ "${SYNACK_IN_CONTAINER:-0}" != 1 ] && [ -z "${SYNACK_DEMO_NS:-}" ]; then
  ns="synack-demo-$$"
  ip netns add "$ns"
  trap 'ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true; ip netns del "$ns" 2>/dev/null || true
        rm -rf "/etc/netns/$ns"' EXIT
  # `ip netns exec` shows /etc/netns/NAME/resolv.conf as /etc/resolv.conf inside: curl asks dnsmasq there.
  mkdir -p "/etc/netns/$ns"
  echo "nameserver 10.77.0.1" >"/etc/netns/$ns/resolv.conf"
  ip netns exec "$ns" env SYNACK_DEMO_NS="$ns" bash "$0" "$@"
  exit $?
fi
if [ "${SYNACK_IN_CONTAINER:-0}" = 1 ]; then
  # The container's own resolv.conf: curl asks dnsmasq.
  echo "nameserver 10.77.0.1" >/etc/resolv.conf
fi

tap_bin="${SYNACK_TAP:-synack-tap}"
command -v "$tap_bin" >/dev/null || { echo "demo: no synack-tap binary ($tap_bin)" >&2; exit 1; }
work="$(mktemp -d /tmp/synack-demo.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n=== %s\n' "$*"; }
fail() { echo "demo: FAILED: $*" >&2; for f in "$work"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done; exit 1; }

# Waits (at most $2 seconds) until file $1 has a line matching $3.
wait_for() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    grep -q -- "$3" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "no line matching '$3' in $1 within $2 s"
}

step "link: tap0 with Linux at 10.77.0.1/24"
ip link set lo up
ip tuntap add dev tap0 mode tap
ip addr add 10.77.0.1/24 dev tap0
sysctl -qw net.ipv6.conf.tap0.disable_ipv6=1 2>/dev/null || true
ip link set tap0 up

# synack's MAC is fixed so dnsmasq can give it a known address and name.
mac=02:00:0a:4d:00:02
timeout 120 dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
  --interface=tap0 --listen-address=10.77.0.1 --user=root --group=root --dhcp-authoritative \
  --dhcp-range=10.77.0.50,10.77.0.60,255.255.255.0,2m --dhcp-host="$mac,10.77.0.2" \
  --host-record=synack.test,10.77.0.2 --host-record=linux.test,10.77.0.1 --cname=www.linux.test,linux.test \
  --dhcp-leasefile="$work/leases" --pid-file="$work/dnsmasq.pid" --log-facility="$work/dnsmasq.log" &
pids+=($!)

tshark -q -a duration:120 -i tap0 -w "$work/demo.pcapng" -f 'not ip6' >"$work/tshark.log" 2>&1 &
pids+=($!)
sleep 1

step "1. synack-tap --dhcp echo: lease, ping, TCP echo"
timeout 60 "$tap_bin" --tap tap0 --mac "$mac" --dhcp --duration 30 echo >"$work/echo.log" 2>&1 &
echo_pid=$!
pids+=("$echo_pid")
wait_for "$work/echo.log" 15 "^ready: echo on 10.77.0.2:7"
grep '^dhcp:' "$work/echo.log"
ping -c 3 -i 0.2 -W 2 10.77.0.2 || fail "ping"
reply="$(echo "hello synack" | timeout 10 nc -N 10.77.0.2 7)" || fail "nc echo"
echo "nc got back: $reply"
[ "$reply" = "hello synack" ] || fail "echo returned '$reply'"
kill -INT "$echo_pid"; wait "$echo_pid" || true

step "2. synack-tap --dhcp http: curl by name through dnsmasq"
timeout 60 "$tap_bin" --tap tap0 --mac "$mac" --dhcp --duration 30 http >"$work/http.log" 2>&1 &
http_pid=$!
pids+=("$http_pid")
wait_for "$work/http.log" 15 "^ready: http on 10.77.0.2:80"
body="$(curl -sS --max-time 10 http://synack.test/)" || fail "curl"
echo "curl got: $body"
[ -n "$body" ] || fail "curl got an empty page"
kill -INT "$http_pid"; wait "$http_pid" || true

step "3. synack-tap --dhcp get: synack resolves www.linux.test through dnsmasq and fetches from Linux"
printf 'hello from linux\n' >"$work/index.txt"
( printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n\r\n'; cat "$work/index.txt" ) \
  | timeout 30 nc -l -N 10.77.0.1 8080 >"$work/nc-http.log" 2>&1 &
pids+=($!)
sleep 0.3
got="$(timeout 40 "$tap_bin" --tap tap0 --mac "$mac" --dhcp --duration 30 get http://www.linux.test:8080/index.txt \
  2>"$work/get.log")" || fail "synack-tap get"
echo "$got" | grep -E '^(dhcp: bound|resolved:)'
echo "$got" | grep -q '^hello from linux$' || fail "get printed: $got"
grep 'get: HTTP' "$work/get.log"

step "4. what tshark saw on tap0"
# dumpcap writes what it captured about once a second; give it that before stopping it.
sleep 2
kill -TERM "${pids[1]}" 2>/dev/null || true
wait "${pids[1]}" 2>/dev/null || true
tshark -r "$work/demo.pcapng" -Y "dhcp || dns || icmp || http" 2>/dev/null | head -40

step "demo: all steps passed"
