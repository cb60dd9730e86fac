#!/usr/bin/env bash
# Live TAP throughput: synack (synack-tap, plain and with `--offload`: receive segmentation/checksum offload
# through a virtio-net header) vs smoltcp 0.14's own `benchmark` example vs a Linux-to-Linux veth baseline
# (iperf3), each moving data both ways to/from a Linux peer, interleaved in one run.
#
#   sudo bench/live.sh [--mb N] [--runs N] [--sha] [--keep-logs]
#
# Everything runs inside network namespaces this script creates (and always deletes, also on failure or ^C):
#   <tag>-sy  tap0: Linux 10.201.0.1/24, synack 10.201.0.2/24   (synack-tap attaches to the persistent tap0)
#   <tag>-sm  tap0: Linux 192.168.69.100/24, smoltcp 192.168.69.1 (addresses hard-coded in smoltcp's example)
#   <tag>-va  va0 10.202.0.1/24  <-- veth -->  <tag>-vb  vb0 10.202.0.2/24
# No host interface is touched. MTU 1500 everywhere. The table goes to stdout, progress to stderr.
#
# Needs root, /dev/net/tun, a Rust toolchain (cargo, rustc) and the smoltcp 0.14.0 crate source in the cargo
# registry (the bench crate depends on it; `cargo fetch` gets it). Installs iperf3 and iproute2 with apt-get if
# missing. smoltcp's source is copied to a temporary directory and built there, unmodified; nothing of it is
# written into this repository (its build output goes to target/live-smoltcp).
set -euo pipefail
SCRIPT=live.sh
# shellcheck source=bench/live_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/live_common.sh"

MB=1000
RUNS=3
SHA=0
KEEP_LOGS=0

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
    cat <<'EOF'
Options:
  --mb N        megabytes (10^6 bytes) per synack transfer and iperf3 run (default 1000 = 1 GB);
                smoltcp's example always moves 1 GB (hard-coded)
  --runs N      interleaved rounds (default 3); the table shows each run and the medians
  --sha         sha256 every transfer: synack-tap hashes what it receives and sends, Linux hashes synack's
                outgoing stream, and the digests are compared (costs CPU on both ends). By default neither
                side hashes (synack-tap --no-hash, like smoltcp's example, whose application touches no byte)
                and the byte counts of both ends and of tap0 are checked
  --keep-logs   keep the per-transfer logs (their directory is printed)
EOF
}


while [[ $# -gt 0 ]]; do
    case "$1" in
        --mb) MB=${2:-}; shift 2 || die "--mb needs a value" ;;
        --runs) RUNS=${2:-}; shift 2 || die "--runs needs a value" ;;
        --sha) SHA=1; shift ;;
        --keep-logs) KEEP_LOGS=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
[[ $MB =~ ^[0-9]+$ && $MB -ge 1 && $MB -le 100000 ]] || die "--mb wants 1..100000, got '$MB'"
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 && $RUNS -le 50 ]] || die "--runs wants 1..50, got '$RUNS'"
[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces and TAP devices): sudo $0 $*"

BYTES=$((MB * 1000000))
HASH_FLAG=--no-hash # synack-tap's application hashes nothing unless --sha
[[ $SHA -eq 1 ]] && HASH_FLAG=
SMOL_BYTES=1000000000 # AMOUNT in smoltcp's examples/benchmark.rs
# Every transfer is bounded: even at 20 Mbit/s 1 GB would need 400 s.
XFER_TIMEOUT=$((120 + MB * 6 / 10))
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TAG="synlive$$"
NS_SY="$TAG-sy" NS_SM="$TAG-sm" NS_VA="$TAG-va" NS_VB="$TAG-vb"
OUR_NS=("$NS_SY" "$NS_SM" "$NS_VA" "$NS_VB")
SY_LINUX=10.201.0.1 SY_STACK=10.201.0.2
VA_IP=10.202.0.1 VB_IP=10.202.0.2
WORK=$(mktemp -d /tmp/synack-live.XXXXXX)
BG=() # pids of our background processes (each a `timeout` wrapper)

install_cleanup

# ---------------------------------------------------------------------------------------------------------------
# Tools and builds

missing=()
command -v ip >/dev/null && command -v ss >/dev/null || missing+=(iproute2)
command -v iperf3 >/dev/null || missing+=(iperf3)
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

# Builds run as the invoking user under sudo (with their login PATH, for ~/.cargo/bin), so target/ stays theirs.
AS_USER=()
user_home=$HOME
if [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
    # shellcheck disable=SC2016 # $0 and $@ are for the inner shell
    AS_USER=(sudo -u "$SUDO_USER" -H bash -lc 'exec "$0" "$@"')
    user_home=$(getent passwd "$SUDO_USER" | cut -d: -f6)
fi
"${AS_USER[@]}" bash -c 'command -v cargo && command -v rustc' >/dev/null || die "cargo/rustc not found"

say "building synack-tap (release)"
cd "$ROOT"
bounded 1800 "${AS_USER[@]}" cargo build --release --locked -q -p synack-tap
TARGET_DIR=$(timeout 300 "${AS_USER[@]}" cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
SYNACK="$TARGET_DIR/release/synack-tap"
[[ -x $SYNACK ]] || die "no $SYNACK after the build"

find_smoltcp() {
    local d
    for d in "${CARGO_HOME:-$user_home/.cargo}"/registry/src/*/smoltcp-0.14.0; do
        [[ -f $d/examples/benchmark.rs ]] && { echo "$d"; return 0; }
    done
    return 1
}
if ! SMOL_SRC=$(find_smoltcp); then
    say "fetching crates (smoltcp 0.14.0 source)"
    bounded 900 "${AS_USER[@]}" cargo fetch --locked -q
    SMOL_SRC=$(find_smoltcp) || die "smoltcp-0.14.0 source not found in the cargo registry"
fi
say "building smoltcp's examples/benchmark.rs from a copy of $SMOL_SRC"
mkdir -p "$WORK/smoltcp"
cp -r "$SMOL_SRC/." "$WORK/smoltcp/"
if [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
    chown -R "$SUDO_USER" "$WORK"
fi
lock=()
[[ -f $WORK/smoltcp/Cargo.lock ]] && lock=(--locked)
cd "$WORK/smoltcp"
bounded 1800 "${AS_USER[@]}" env CARGO_TARGET_DIR="$TARGET_DIR/live-smoltcp" \
    cargo build --release -q "${lock[@]}" --example benchmark
cd "$ROOT"
SMOLTCP="$TARGET_DIR/live-smoltcp/release/examples/benchmark"
[[ -x $SMOLTCP ]] || die "no $SMOLTCP after the build"

# The Linux end of synack's transfers: std::net sockets with 1 MB buffers, like smoltcp's benchmark client.
cat >"$WORK/live-peer.rs" <<'EOF'
// Linux end of bench/live.sh: std::net sockets and 1 MB buffers, like smoltcp's benchmark client.
//   send ADDR:PORT BYTES  connect, write BYTES of the pattern, shut down writing, read until the peer closes
//                         (it closes after reading everything): timed from connect to that close
//   recv ADDR:PORT [-]    listen, accept one connection, read to its end ("-": copy the bytes to stdout);
//                         timed from accept to end of stream
//   gen BYTES             write the pattern to stdout (for its sha256)
// The result goes to stderr: "peer: BYTES bytes in SECS s".
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Instant;

const BUF: usize = 1_000_000;

fn pattern() -> Vec<u8> {
    (0..BUF).map(|i| (i * 7 % 251) as u8).collect()
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let arg = |i: usize| a.get(i).cloned().unwrap_or_else(|| panic!("usage: live-peer send|recv|gen ..."));
    match arg(1).as_str() {
        "gen" => {
            let (buf, mut left) = (pattern(), arg(2).parse::<usize>().unwrap());
            let mut out = std::io::stdout().lock();
            while left > 0 {
                let n = left.min(BUF);
                out.write_all(&buf[..n]).unwrap();
                left -= n;
            }
        }
        "send" => {
            let (buf, total) = (pattern(), arg(3).parse::<usize>().unwrap());
            let start = Instant::now();
            let mut s = TcpStream::connect(arg(2)).unwrap();
            let mut left = total;
            while left > 0 {
                let n = s.write(&buf[..left.min(BUF)]).unwrap();
                assert!(n > 0, "write returned 0");
                left -= n;
            }
            s.shutdown(Shutdown::Write).unwrap();
            let mut rest = Vec::new();
            s.read_to_end(&mut rest).unwrap();
            eprintln!("peer: {total} bytes in {:.6} s", start.elapsed().as_secs_f64());
        }
        "recv" => {
            let listener = TcpListener::bind(arg(2)).unwrap();
            let (mut s, _) = listener.accept().unwrap();
            let start = Instant::now();
            let copy = a.get(3).is_some_and(|x| x == "-");
            let (mut buf, mut total) = (vec![0u8; BUF], 0u64);
            let mut out = std::io::stdout().lock();
            loop {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                if copy {
                    out.write_all(&buf[..n]).unwrap();
                }
                total += n as u64;
            }
            let secs = start.elapsed().as_secs_f64();
            out.flush().unwrap();
            drop(s);
            eprintln!("peer: {total} bytes in {secs:.6} s");
        }
        _ => panic!("usage: live-peer send|recv|gen ..."),
    }
}
EOF
bounded 300 "${AS_USER[@]}" rustc -O --edition 2021 -o "$WORK/live-peer" "$WORK/live-peer.rs"
PEER="$WORK/live-peer"
EXPECTED_SHA=""
[[ $SHA -eq 1 ]] && EXPECTED_SHA=$("$PEER" gen "$BYTES" | sha256sum | cut -d' ' -f1)

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
ip -n "$NS_SM" tuntap add dev tap0 mode tap
ip -n "$NS_SM" link set tap0 mtu 1500
ip -n "$NS_SM" addr add 192.168.69.100/24 dev tap0
ip -n "$NS_SM" link set tap0 up
ip -n "$NS_VA" link add va0 mtu 1500 type veth peer name vb0 mtu 1500 netns "$NS_VB"
ip -n "$NS_VA" addr add "$VA_IP/24" dev va0
ip -n "$NS_VB" addr add "$VB_IP/24" dev vb0
ip -n "$NS_VA" link set va0 up
ip -n "$NS_VB" link set vb0 up

# ---------------------------------------------------------------------------------------------------------------
# Helpers

# Linux's counter of tap0 in a namespace (tx = Linux -> stack, rx = stack -> Linux).
counter() { ip netns exec "$1" cat "/sys/class/net/tap0/statistics/$2"; }


# Waits for background job $1; on failure shows log $2.
reap() {
    local pid=$1 log=$2 rc=0
    wait "$pid" || rc=$?
    forget "$pid"
    if [[ $rc -ne 0 ]]; then
        tail -n 20 "$log" >&2 || true
        die "$3 failed (exit $rc; 124 = timed out); log $log"
    fi
}

field_after() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' "$1"; }
gbits() { awk -v b="$1" -v s="$2" 'BEGIN { if (s <= 0) exit 1; printf "%.3f", b * 8 / s / 1e9 }'; }

# Checks that Linux's tap0 counters moved at least $3 bytes in the data direction; records the frame counts
# (data direction, reverse direction) in FRAMES_DATA / FRAMES_BACK.
snap() { SNAP=("$(counter "$1" tx_bytes)" "$(counter "$1" tx_packets)" "$(counter "$1" rx_bytes)" "$(counter "$1" rx_packets)"); }
check_counters() {
    local ns=$1 dir=$2 want=$3 what=$4
    local txb txp rxb rxp
    txb=$(($(counter "$ns" tx_bytes) - SNAP[0]))
    txp=$(($(counter "$ns" tx_packets) - SNAP[1]))
    rxb=$(($(counter "$ns" rx_bytes) - SNAP[2]))
    rxp=$(($(counter "$ns" rx_packets) - SNAP[3]))
    if [[ $dir == in ]]; then # Linux -> stack
        [[ $txb -ge $want ]] || die "$what: tap0 carried only $txb bytes to the stack, expected >= $want"
        FRAMES_DATA=$txp FRAMES_BACK=$rxp
    else
        [[ $rxb -ge $want ]] || die "$what: tap0 carried only $rxb bytes from the stack, expected >= $want"
        FRAMES_DATA=$rxp FRAMES_BACK=$txp
    fi
}

# Each measurement sets GBPS (and FRAMES_DATA/FRAMES_BACK for the TAP ones).

# Linux -> synack: synack-tap recv, the peer sends; byte count (and with --sha the sha256) checked.
synack_in() {
    local log="$WORK/synack-in-$1${2:-}.log" plog="$WORK/peer-in-$1${2:-}.log" pid
    snap "$NS_SY"
    # shellcheck disable=SC2086 # $2 is empty or --offload, $HASH_FLAG empty or --no-hash
    timeout "$XFER_TIMEOUT" ip netns exec "$NS_SY" "$SYNACK" --tap tap0 --ip "$SY_STACK/24" ${2:-} \
        --max-connections 1 recv --port 5001 $HASH_FLAG >"$log" 2>&1 &
    pid=$!
    BG+=("$pid")
    wait_until "$pid" "synack-tap recv" log_has "$log" "^ready: recv"
    bounded "$XFER_TIMEOUT" ip netns exec "$NS_SY" "$PEER" send "$SY_STACK:5001" "$BYTES" 2>"$plog" ||
        { cat "$plog" "$log" >&2; die "Linux -> synack transfer failed"; }
    reap "$pid" "$log" "synack-tap recv"
    local got sha secs
    got=$(field_after "$log" received)
    secs=$(field_after "$plog" in)
    [[ $got == "$BYTES" ]] || die "synack received '$got' bytes, expected $BYTES ($log)"
    if [[ $SHA -eq 1 ]]; then
        sha=$(field_after "$log" sha256)
        [[ $sha == "$EXPECTED_SHA" ]] || die "synack's sha256 $sha != expected $EXPECTED_SHA ($log)"
    fi
    check_counters "$NS_SY" in "$BYTES" "Linux -> synack"
    GBPS=$(gbits "$BYTES" "$secs")
    say "  Linux -> synack ${2:-}:  $GBPS Gbit/s (synack's own clock: $(grep -o 'in [0-9.]* s, [0-9.]* Mbit/s' "$log"))"
}

# synack -> Linux: the peer listens, synack-tap sends; byte count (and with --sha the sha256) checked.
synack_out() {
    local log="$WORK/synack-out-$1${2:-}.log" plog="$WORK/peer-out-$1${2:-}.log" pid shafile="$WORK/peer-out-$1.sha"
    snap "$NS_SY"
    if [[ $SHA -eq 1 ]]; then
        timeout "$XFER_TIMEOUT" ip netns exec "$NS_SY" "$PEER" recv "$SY_LINUX:5002" - 2>"$plog" |
            sha256sum >"$shafile" &
    else
        timeout "$XFER_TIMEOUT" ip netns exec "$NS_SY" "$PEER" recv "$SY_LINUX:5002" >/dev/null 2>"$plog" &
    fi
    pid=$!
    BG+=("$pid")
    wait_until "$pid" "the Linux receiver" listening "$NS_SY" 5002
    # shellcheck disable=SC2086 # $2 is empty or --offload, $HASH_FLAG empty or --no-hash
    bounded "$XFER_TIMEOUT" ip netns exec "$NS_SY" "$SYNACK" --tap tap0 --ip "$SY_STACK/24" ${2:-} \
        send --connect "$SY_LINUX:5002" --bytes "$BYTES" $HASH_FLAG >"$log" 2>&1 ||
        { cat "$log" "$plog" >&2; die "synack -> Linux transfer failed"; }
    reap "$pid" "$plog" "the Linux receiver"
    local got sent secs
    got=$(field_after "$plog" peer:)
    sent=$(field_after "$log" sent)
    secs=$(field_after "$plog" in)
    [[ $got == "$BYTES" && $sent == "$BYTES" ]] || die "synack sent '$sent', Linux got '$got' bytes, expected $BYTES"
    if [[ $SHA -eq 1 ]]; then
        [[ $(cut -d' ' -f1 "$shafile") == "$(field_after "$log" sha256)" ]] || die "sha256 mismatch ($log)"
    fi
    check_counters "$NS_SY" out "$BYTES" "synack -> Linux"
    GBPS=$(gbits "$BYTES" "$secs")
    say "  synack -> Linux ${2:-}:  $GBPS Gbit/s (synack's own clock: $(grep -o 'in [0-9.]* s, [0-9.]* Mbit/s' "$log"))"
}

# smoltcp's example: "writer" = Linux writes, smoltcp sinks; "reader" = smoltcp sends, Linux reads.
# smoltcp's example sometimes stalls for good (on a loaded machine its client thread can connect before the
# listener is up, panic on the refusal, and leave the example waiting forever): after SMOL_TIMEOUT
# seconds the run is retried once, and said so.
SMOL_TIMEOUT=60
smoltcp_run() {
    local mode=$1 dir=$2 log="$WORK/smoltcp-$1-$3.log" rc=0
    snap "$NS_SM"
    bounded "$SMOL_TIMEOUT" ip netns exec "$NS_SM" "$SMOLTCP" --tap tap0 "$mode" >"$log" 2>&1 || rc=$?
    if [[ $rc -eq 124 ]]; then
        say "  smoltcp $mode stalled for ${SMOL_TIMEOUT}s; retrying once"
        sleep 1
        snap "$NS_SM"
        rc=0
        bounded "$SMOL_TIMEOUT" ip netns exec "$NS_SM" "$SMOLTCP" --tap tap0 "$mode" >"$log" 2>&1 || rc=$?
    fi
    [[ $rc -eq 0 ]] || { cat "$log" >&2; die "smoltcp benchmark $mode failed (exit $rc; 124 = timed out)"; }
    GBPS=$(sed -n 's/^throughput: \([0-9.]*\) Gbps.*/\1/p' "$log")
    [[ -n $GBPS ]] || die "no throughput line from smoltcp ($log)"
    # The example prints its rate even if the connection ended early: the tap counters must show the 1 GB.
    check_counters "$NS_SM" "$dir" "$SMOL_BYTES" "smoltcp $mode"
    say "  smoltcp $mode:   $GBPS Gbit/s"
}

# iperf3 over the veth pair; $1 = "" (va sends to vb) or "-R" (vb sends to va).
veth_run() {
    local rev=$1 log="$WORK/iperf3-${1:-fwd}-$2.json" slog="$WORK/iperf3-server-$2.log" pid
    timeout "$XFER_TIMEOUT" ip netns exec "$NS_VB" iperf3 -s -1 -B "$VB_IP" -p 5201 >"$slog" 2>&1 &
    pid=$!
    BG+=("$pid")
    wait_until "$pid" "iperf3 -s" listening "$NS_VB" 5201
    # shellcheck disable=SC2086 # $rev is empty or -R
    bounded "$XFER_TIMEOUT" ip netns exec "$NS_VA" iperf3 -c "$VB_IP" -p 5201 -n "$BYTES" -J $rev >"$log" 2>&1 ||
        { tail -n 20 "$log" >&2; die "iperf3 ${rev:-forward} failed"; }
    reap "$pid" "$slog" "iperf3 -s"
    # end.sum_received: what the receiving iperf3 read, and its rate. With -n the test ends once the sender has
    # written its bytes, so the receiver's count stops short by what was still in flight or in its socket buffer
    # (a few MB): the check allows 16 MB less.
    local bps got
    bps=$(awk '/"sum_received"/ { s = 1 } s && /"bits_per_second"/ { gsub(/[^0-9.e+]/, "", $2); print $2; exit }' "$log")
    got=$(awk '/"sum_received"/ { s = 1 } s && /"bytes"/ { gsub(/[^0-9]/, "", $2); print $2; exit }' "$log")
    [[ -n $bps && -n $got ]] || die "no sum_received in iperf3's JSON ($log)"
    [[ $((got + 16000000)) -ge $BYTES ]] || die "iperf3 ${rev:-forward}: received only $got bytes of $BYTES ($log)"
    GBPS=$(awk -v b="$bps" 'BEGIN { printf "%.3f", b / 1e9 }')
    say "  veth iperf3 ${rev:-fwd}:  $GBPS Gbit/s"
}


# ---------------------------------------------------------------------------------------------------------------
# Runs: per round, both directions; within a direction the three contenders in an order rotated per round.

REV=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A R # R[<stack>-<dir>-<run>] = Gbit/s; F[...] = frames
declare -A F
say "$RUNS rounds, $MB MB per synack/iperf3 transfer (smoltcp: 1000 MB), transfer timeout ${XFER_TIMEOUT}s"
for ((run = 1; run <= RUNS; run++)); do
    say "round $run/$RUNS"
    for dir in in out; do
        for k in 0 1 2 3; do
            case $(((k + run - 1) % 4)) in
                0)
                    if [[ $dir == in ]]; then synack_in "$run"; else synack_out "$run"; fi
                    R[synack-$dir-$run]=$GBPS
                    F[synack-$dir-$run]="$FRAMES_DATA $FRAMES_BACK"
                    ;;
                1)
                    if [[ $dir == in ]]; then smoltcp_run writer in "$run"; else smoltcp_run reader out "$run"; fi
                    R[smoltcp-$dir-$run]=$GBPS
                    F[smoltcp-$dir-$run]="$FRAMES_DATA $FRAMES_BACK"
                    ;;
                2)
                    if [[ $dir == in ]]; then veth_run "" "$run"; else veth_run -R "$run"; fi
                    R[veth-$dir-$run]=$GBPS
                    ;;
                3)
                    if [[ $dir == in ]]; then synack_in "$run" --offload; else synack_out "$run" --offload; fi
                    R[offload-$dir-$run]=$GBPS
                    F[offload-$dir-$run]="$FRAMES_DATA $FRAMES_BACK"
                    ;;
            esac
        done
    done
done

# ---------------------------------------------------------------------------------------------------------------
# Report

name() { if [[ $1 == in ]]; then echo "Linux → stack (stack receives)"; else echo "stack → Linux (stack sends)"; fi; }

echo
echo "### Live TAP throughput, Gbit/s ($RUNS runs, $(date -u +%Y-%m-%d))"
echo
hashing="no application hashing (byte counts checked)"
[[ $SHA -eq 1 ]] && hashing="synack-tap and Linux sha256 every byte (--sha; digests compared)"
echo "synack at $REV; $(nproc) CPUs; load average before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg); $hashing."
echo
echo "| direction | run | synack | synack \`--offload\` | smoltcp 0.14 \`benchmark\` | Linux veth (iperf3) |" \
    "synack / smoltcp | synack / veth | offload / smoltcp | offload / veth |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for dir in in out; do
    s=() o=() m=() v=() rs=() rv=() os=() ov=()
    for ((run = 1; run <= RUNS; run++)); do
        a=${R[synack-$dir-$run]} d=${R[offload-$dir-$run]} b=${R[smoltcp-$dir-$run]} c=${R[veth-$dir-$run]}
        s+=("$a") o+=("$d") m+=("$b") v+=("$c")
        rs+=("$(ratio "$a" "$b")") rv+=("$(ratio "$a" "$c")") os+=("$(ratio "$d" "$b")") ov+=("$(ratio "$d" "$c")")
        echo "| $(name "$dir") | $run | $a | $d | $b | $c | ${rs[-1]} | ${rv[-1]} | ${os[-1]} | ${ov[-1]} |"
    done
    med2() { median "$@" | xargs printf %.2f; }
    echo "| **$(name "$dir")** | **median** | **$(median "${s[@]}")** | **$(median "${o[@]}")** |" \
        "**$(median "${m[@]}")** | **$(median "${v[@]}")** | **$(med2 "${rs[@]}")** | **$(med2 "${rv[@]}")** |" \
        "**$(med2 "${os[@]}")** | **$(med2 "${ov[@]}")** |"
done
echo
echo "Ratios in the median rows are medians of the per-run ratios (each run's three contenders ran back to back)."
echo "Goal (issue 17): synack \`--offload\` / smoltcp ≥ 3 and / veth ≥ 0.8 each way."
echo
echo "Frames per transfer on Linux's tap0 (medians): data direction / reverse direction (mostly ACKs)."
echo
echo "| direction | synack ($MB MB) | synack \`--offload\` ($MB MB) | smoltcp (1000 MB) |"
echo "|---|---:|---:|---:|"
for dir in in out; do
    sd=() sb=() od=() ob=() md=() mb=()
    for ((run = 1; run <= RUNS; run++)); do
        read -r x y <<<"${F[synack-$dir-$run]}"
        sd+=("$x") sb+=("$y")
        read -r x y <<<"${F[offload-$dir-$run]}"
        od+=("$x") ob+=("$y")
        read -r x y <<<"${F[smoltcp-$dir-$run]}"
        md+=("$x") mb+=("$y")
    done
    echo "| $(name "$dir") | $(median -i "${sd[@]}") / $(median -i "${sb[@]}") |" \
        "$(median -i "${od[@]}") / $(median -i "${ob[@]}") | $(median -i "${md[@]}") / $(median -i "${mb[@]}") |"
done
