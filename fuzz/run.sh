#!/usr/bin/env bash
# Fuzzes every target (or those named) for SECONDS each; CI runs it (docs/fuzzing.md).
# Exits non-zero if a target crashes, hangs or runs out of memory, printing the input's path.
#   fuzz/run.sh SECONDS [TARGET...]
set -euo pipefail
seconds="${1:?usage: fuzz/run.sh SECONDS [TARGET...]}"
shift
fuzz="$(cd "$(dirname "$0")" && pwd)"
clone="$(dirname "$fuzz")"
cd "$fuzz"

# cargo-fuzz drives a nightly cargo: rustup installs the toolchain if the machine has none, and
# cargo-fuzz goes into the clone if missing (never globally). Its CLI only runs cargo, so a debug
# build, which compiles in about two thirds of the time, is enough.
if ! cargo +nightly --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal >&2 || {
    echo "fuzzing needs a nightly Rust toolchain, and rustup toolchain install nightly failed" >&2
    exit 1
  }
fi
export PATH="$clone/.cargo-tools/bin:$PATH"
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install --quiet --locked --debug --version 0.13.2 --root "$clone/.cargo-tools" cargo-fuzz
fi

# A dev build with only the code the targets run optimized (fuzz/Cargo.toml): optimizing all
# of tokio, tonic and rmcp too doubles the build for no gain here. No sanitizer: the targets
# are safe Rust, where AddressSanitizer adds build time and finds nothing a panic does not.
build=(--dev --sanitizer none)
cargo +nightly fuzz build "${build[@]}"

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

# One fuzzer per core at a time; each writes what it finds to its own working corpus (the
# committed seeds in corpus/ are only read) and a failing input to artifacts/<target>/.
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
touch "$logs/.start" # artifacts newer than this are this run's
run() {
  local target="$1"
  mkdir -p "$fuzz/work-corpus/$target" "$fuzz/artifacts/$target"
  cargo +nightly fuzz run "${build[@]}" "$target" "$fuzz/work-corpus/$target" "$fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$fuzz/artifacts/$target/" >"$logs/$target.log" 2>&1
}
# One of libFuzzer's closing statistics (-print_final_stats), from a target's log.
final_stat() { grep -o "stat::$2: *[0-9]*" "$1" | grep -o '[0-9]*$' || echo '?'; }
report() {
  local target="$1" status="$2" log="$logs/$1.log"
  if [ "$status" -eq 0 ]; then
    echo "fuzz $target: ok, $(final_stat "$log" number_of_executed_units) inputs in ${seconds}s" \
      "($(final_stat "$log" average_exec_per_sec)/s), peak RSS $(final_stat "$log" peak_rss_mb) MB," \
      "slowest input $(final_stat "$log" slowest_unit_time_sec) s"
  else
    echo "fuzz $target: FAILED (exit $status); the failing input:" >&2
    find "$fuzz/artifacts/$target" -type f -newer "$logs/.start" -printf '  %p\n' >&2
    # From the panic (or libFuzzer's own error) to the command that reproduces it.
    awk '/panicked at|ERROR: libFuzzer/ { on = 1 } on && n++ < 80 { print } /^Reproduce with/ { stop = NR + 2 }
      stop && NR == stop { exit }' "$log" >&2
  fi
}

cores="$(nproc)"
declare -A running=() # pid -> target
failed=0
finish_one() {
  local pid status=0
  wait -n -p pid "${!running[@]}" || status=$?
  report "${running[$pid]}" "$status"
  [ "$status" -eq 0 ] || failed=1
  unset "running[$pid]"
}
for target in "${targets[@]}"; do
  [ "${#running[@]}" -lt "$cores" ] || finish_one
  run "$target" &
  running[$!]="$target"
done
while [ "${#running[@]}" -gt 0 ]; do finish_one; done
exit "$failed"
