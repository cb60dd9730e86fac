#!/usr/bin/env bash
# `compare` (synack vs smoltcp 0.14 in memory) in a plain release build and in a profile-guided one, back to back.
#
#   bench/pgo.sh [compare's options, e.g. --mb 256 --runs 5]
#
# Profile-guided optimisation (PGO) lets the compiler see which branches and calls a workload takes: it lays the
# taken code out together and inlines along it. Both stacks get the same treatment: one instrumented binary runs
# both stacks' bulk transfer and handshakes (`compare --mb 64 --runs 1`, with `--ipv6` when given), and the
# profile it writes optimises the whole binary, smoltcp included. The plain build's ratios are the benchmark's;
# the PGO build's show how much of a gap is code layout rather than work (BENCHMARKS.md, "Sixth round").
#
# Needs rustup (installs its `llvm-tools` component for llvm-profdata). Builds into target/pgo; nothing else is
# written.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

train=(--mb 64 --runs 1)
for arg in "$@"; do
    if [ "$arg" = "--ipv6" ]; then
        train+=(--ipv6)
    fi
done

if ! command -v rustup >/dev/null; then
    echo "pgo.sh: needs rustup (for the llvm-tools component's llvm-profdata)" >&2
    exit 1
fi
rustup component add llvm-tools >&2
profdata=$(find "$(rustc --print sysroot)" -name llvm-profdata -type f | head -n 1)
if [ -z "$profdata" ]; then
    echo "pgo.sh: llvm-profdata not found under $(rustc --print sysroot) after adding llvm-tools" >&2
    exit 1
fi

dir=$PWD/target/pgo
rm -rf "$dir/profiles" "$dir/merged.profdata"
echo "pgo.sh: building the instrumented binary" >&2
RUSTFLAGS="-Cprofile-generate=$dir/profiles" CARGO_TARGET_DIR=$dir/generate \
    cargo build --release --locked -p synack-bench --example compare >&2
echo "pgo.sh: training: compare ${train[*]}" >&2
"$dir/generate/release/examples/compare" "${train[@]}" >/dev/null
"$profdata" merge -o "$dir/merged.profdata" "$dir/profiles"
echo "pgo.sh: building the optimised binary and the plain one" >&2
RUSTFLAGS="-Cprofile-use=$dir/merged.profdata" CARGO_TARGET_DIR=$dir/use \
    cargo build --release --locked -p synack-bench --example compare >&2
cargo build --release --locked -p synack-bench --example compare >&2

echo "## Plain release build"
./target/release/examples/compare "$@"
echo
echo "## Profile-guided build (both stacks trained)"
"$dir/use/release/examples/compare" "$@"
