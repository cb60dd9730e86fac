#!/usr/bin/env bash
# Live short connections: `synack-tap http` over TAP vs a tiny std::net HTTP server on Linux's own stack over
# veth, both loaded by ApacheBench (`ab -n N -c C`, one request per connection), interleaved in one run.
#
#   sudo bench/live_http.sh [--requests N] [--concurrency C] [--runs N] [--offload] [--keep-logs]
#
# Everything runs inside network namespaces this script creates (and always deletes, also on failure or ^C):
#   <tag>-sy  tap0: Linux 10.203.0.1/24 (ab), synack 10.203.0.2/24   (synack-tap attaches to the persistent tap0)
#   <tag>-va  va0 10.204.0.1/24 (ab)  <-- veth -->  <tag>-vb  vb0 10.204.0.2/24 (the std::net server)
# No host interface is touched. MTU 1500 everywhere. The table goes to stdout, progress to stderr.
#
# Both servers answer `GET /` the same way: read the request head, write one response (Content-Length 45,
# Connection: close), shut down writing, read until the client closes. The Linux server spawns a thread per
# connection. Each run starts a fresh synack-tap (its TIME-WAIT table empty), as the Linux server's namespace
# pair is fresh for every run too.
#
# Needs root, /dev/net/tun, a Rust toolchain (cargo, rustc). Installs ab (apache2-utils) and iproute2 with
# apt-get if missing.
set -euo pipefail
SCRIPT=live_http.sh
# shellcheck source=bench/live_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/live_common.sh"

REQUESTS=10000
CONC=50
RUNS=3
OFFLOAD=
KEEP_LOGS=0

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
    cat <<'EOF'
Options:
  --requests N     requests (= connections) per ab run (default 10000)
  --concurrency C  ab's concurrent clients (default 50)
  --runs N         interleaved rounds (default 3); the table shows each run and the medians
  --offload        run synack-tap with --offload
  --keep-logs      keep the logs (their directory is printed)
EOF
}


while [[ $# -gt 0 ]]; do
    case "$1" in
        --requests) REQUESTS=${2:-}; shift 2 || die "--requests needs a value" ;;
        --concurrency) CONC=${2:-}; shift 2 || die "--concurrency needs a value" ;;
        --runs) RUNS=${2:-}; shift 2 || die "--runs needs a value" ;;
        --offload) OFFLOAD=--offload; shift ;;
        --keep-logs) KEEP_LOGS=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
[[ $REQUESTS =~ ^[0-9]+$ && $REQUESTS -ge 100 && $REQUESTS -le 1000000 ]] ||
    die "--requests wants 100..1000000, got '$REQUESTS'"
[[ $CONC =~ ^[0-9]+$ && $CONC -ge 1 && $CONC -le 1000 && $CONC -le $REQUESTS ]] ||
    die "--concurrency wants 1..1000 (and at most --requests), got '$CONC'"
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 && $RUNS -le 50 ]] || die "--runs wants 1..50, got '$RUNS'"
[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces and TAP devices): sudo $0 $*"

# Every ab run is bounded: even at 200 requests/s.
AB_TIMEOUT=$((60 + REQUESTS / 200))
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TAG="synhttp$$"
NS_SY="$TAG-sy" NS_VA="$TAG-va" NS_VB="$TAG-vb"
OUR_NS=("$NS_SY" "$NS_VA" "$NS_VB")
SY_LINUX=10.203.0.1 SY_STACK=10.203.0.2
VA_IP=10.204.0.1 VB_IP=10.204.0.2
WORK=$(mktemp -d /tmp/synack-live-http.XXXXXX)
BG=() # pids of our background processes (each a `timeout` wrapper)

install_cleanup

# ---------------------------------------------------------------------------------------------------------------
# Tools and builds

missing=()
command -v ip >/dev/null && command -v ss >/dev/null || missing+=(iproute2)
command -v ab >/dev/null || missing+=(apache2-utils)
command -v timeout >/dev/null || missing+=(coreutils)
if [[ ${#missing[@]} -gt 0 ]]; then
    say "installing ${missing[*]}"
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    export DEBIAN_FRONTEND=noninteractive
    bounded 600 apt-get update -qq
    bounded 900 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[[ -e /dev/net/tun ]] || bounded 30 modprobe tun || true
[[ -e /dev/net/tun ]] || die "no /dev/net/tun (modprobe tun)"

AS_USER=()
if [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
    # shellcheck disable=SC2016 # $0 and $@ are for the inner shell
    AS_USER=(sudo -u "$SUDO_USER" -H bash -lc 'exec "$0" "$@"')
fi
"${AS_USER[@]}" bash -c 'command -v cargo && command -v rustc' >/dev/null || die "cargo/rustc not found"

say "building synack-tap (release)"
cd "$ROOT"
bounded 1800 "${AS_USER[@]}" cargo build --release --locked -q -p synack-tap
TARGET_DIR=$(timeout 300 "${AS_USER[@]}" cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
SYNACK="$TARGET_DIR/release/synack-tap"
[[ -x $SYNACK ]] || die "no $SYNACK after the build"
if [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
    chown "$SUDO_USER" "$WORK"
fi

# The Linux contender: what `synack-tap http` does for `GET /`, on std::net, a thread per connection.
cat >"$WORK/http-peer.rs" <<'EOF'
// Linux end of bench/live_http.sh: `http-peer ADDR:PORT` answers every connection as `synack-tap http` answers
// `GET /` (one response, Connection: close, then shut down writing and read until the client closes).
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};

const BODY: &str = "hello from synack, a user-space TCP/IP stack\n";

fn serve(mut s: TcpStream) -> std::io::Result<()> {
    let (mut head, mut buf) = (Vec::new(), [0u8; 2048]);
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf)?;
        if n == 0 || head.len() > 16 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\nServer: linux\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    s.write_all(response.as_bytes())?;
    s.shutdown(Shutdown::Write)?;
    while s.read(&mut buf)? > 0 {}
    Ok(())
}

fn main() {
    let addr = std::env::args().nth(1).expect("usage: http-peer ADDR:PORT");
    let listener = TcpListener::bind(&addr).expect("bind");
    eprintln!("ready: http on {addr}");
    for s in listener.incoming() {
        match s {
            Ok(s) => {
                std::thread::spawn(move || serve(s));
            }
            Err(e) => eprintln!("accept: {e}"),
        }
    }
}
EOF
bounded 300 "${AS_USER[@]}" rustc -O --edition 2021 -o "$WORK/http-peer" "$WORK/http-peer.rs"
PEER="$WORK/http-peer"

# ---------------------------------------------------------------------------------------------------------------
# Namespaces and devices

for ns in "${OUR_NS[@]}"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
done
ip -n "$NS_SY" tuntap add dev tap0 mode tap
ip -n "$NS_SY" link set tap0 mtu 1500
ip -n "$NS_SY" addr add "$SY_LINUX/24" dev tap0
ip -n "$NS_SY" link set tap0 up
ip -n "$NS_VA" link add va0 mtu 1500 type veth peer name vb0 mtu 1500 netns "$NS_VB"
ip -n "$NS_VA" addr add "$VA_IP/24" dev va0
ip -n "$NS_VB" addr add "$VB_IP/24" dev vb0
ip -n "$NS_VA" link set va0 up
ip -n "$NS_VB" link set vb0 up

# ---------------------------------------------------------------------------------------------------------------
# Helpers


# CPU seconds (user + system) of process $1 and all its threads, also those that ended.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }

# ab NS URL LOG: runs ab; sets RPS, P99 (ms); fails unless every request completed without error.
run_ab() {
    local ns=$1 url=$2 log=$3
    bounded "$AB_TIMEOUT" ip netns exec "$ns" ab -q -n "$REQUESTS" -c "$CONC" -s 20 "$url" >"$log" 2>&1 ||
        { tail -n 20 "$log" >&2; die "ab against $url failed; log $log"; }
    local complete failed non2xx
    complete=$(awk '/^Complete requests:/ { print $3 }' "$log")
    failed=$(awk '/^Failed requests:/ { print $3 }' "$log")
    non2xx=$(awk '/^Non-2xx responses:/ { print $3 }' "$log")
    [[ $complete == "$REQUESTS" && $failed == 0 && -z $non2xx ]] ||
        die "ab against $url: $complete complete, $failed failed, ${non2xx:-0} non-2xx ($log)"
    RPS=$(awk '/^Requests per second:/ { print $4 }' "$log")
    P99=$(awk '$1 == "99%" { print $2 }' "$log")
    [[ -n $RPS && -n $P99 ]] || die "no rate or 99% line from ab ($log)"
}

synack_run() {
    local log="$WORK/synack-$1.log" alog="$WORK/ab-synack-$1.log" pid child
    # shellcheck disable=SC2086 # $OFFLOAD is empty or --offload
    ip netns exec "$NS_SY" timeout "$AB_TIMEOUT" "$SYNACK" --tap tap0 --ip "$SY_STACK/24" --probes 0 $OFFLOAD \
        http --port 80 >"$log" 2>&1 &
    pid=$!
    BG+=("$pid")
    wait_until "$pid" "synack-tap http" log_has "$log" "^ready:"
    run_ab "$NS_SY" "http://$SY_STACK/" "$alog"
    # `ip netns exec` became `timeout`, whose child is synack-tap.
    child=$(pgrep -P "$pid" | head -n 1)
    CPU=$(cpu_of "$child")
    kill -TERM "$child" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget "$pid"
    say "  synack-tap http${OFFLOAD:+ $OFFLOAD}: $RPS requests/s, p99 $P99 ms, $CPU s CPU"
}

linux_run() {
    local log="$WORK/peer-$1.log" alog="$WORK/ab-linux-$1.log" pid child
    ip netns exec "$NS_VB" timeout "$AB_TIMEOUT" "$PEER" "$VB_IP:80" >"$log" 2>&1 &
    pid=$!
    BG+=("$pid")
    wait_until "$pid" "the Linux server" listening "$NS_VB" 80
    run_ab "$NS_VA" "http://$VB_IP/" "$alog"
    child=$(pgrep -P "$pid" | head -n 1)
    CPU=$(cpu_of "$child")
    kill -TERM "$child" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget "$pid"
    say "  Linux std::net over veth: $RPS requests/s, p99 $P99 ms, $CPU s CPU"
}


# ---------------------------------------------------------------------------------------------------------------
# Runs: per round both servers, in an order alternating per round.

REV=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A R
say "$RUNS rounds of ab -n $REQUESTS -c $CONC against each server"
for ((run = 1; run <= RUNS; run++)); do
    say "round $run/$RUNS"
    for k in 0 1; do
        if (((k + run) % 2 == 1)); then
            synack_run "$run"
            R[s-$run]="$RPS $P99 $CPU"
        else
            linux_run "$run"
            R[l-$run]="$RPS $P99 $CPU"
        fi
    done
done

# ---------------------------------------------------------------------------------------------------------------
# Report

echo
echo "### Live short connections: \`ab -n $REQUESTS -c $CONC\`, one request per connection ($RUNS runs, $(date -u +%Y-%m-%d))"
echo
echo "synack at $REV${OFFLOAD:+ (synack-tap $OFFLOAD)}; $(nproc) CPUs; load average before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "| run | synack-tap http, req/s | p99 ms | CPU s | Linux std::net over veth, req/s | p99 ms | CPU s | synack / Linux |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
sr=() sp=() lr=() lp=() rr=()
for ((run = 1; run <= RUNS; run++)); do
    read -r a ap ac <<<"${R[s-$run]}"
    read -r b bp bc <<<"${R[l-$run]}"
    sr+=("$a") sp+=("$ap") lr+=("$b") lp+=("$bp") rr+=("$(ratio "$a" "$b")")
    echo "| $run | $a | $ap | $ac | $b | $bp | $bc | ${rr[-1]} |"
done
echo "| **median** | **$(median -f %.2f "${sr[@]}")** | **$(median -f %.2f "${sp[@]}")** | | **$(median -f %.2f "${lr[@]}")** |" \
    "**$(median -f %.2f "${lp[@]}")** | | **$(median -f %.2f "${rr[@]}")** |"
echo
echo "The ratio's median is the median of the per-run ratios. Goal: synack / Linux ≥ 0.50."
