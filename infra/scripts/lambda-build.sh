#!/usr/bin/env bash
# Builds the release zip of every function in template.yaml with cargo-lambda
# (`cargo lambda build --release --arm64 --output-format zip`, cross-linked by Zig), and
# prints each zip's size and the total. Only the template's binaries are built: the
# local runtime (pm-local), the benchmarks and the fault tools are never packaged.
#
#   infra/scripts/lambda-build.sh                  every function
#   infra/scripts/lambda-build.sh health me        just these binaries
#   infra/scripts/lambda-build.sh --x86-64 health  an x86_64 build, to check the
#                                                  toolchain where no arm64 std is
#                                                  installed (not deployable: the
#                                                  template's functions are arm64)
#
# cargo-lambda and Zig come from PyPI into their own venv (LAMBDA_VENV, default
# target/lambda-venv), pinned to versions known to work together: cargo-lambda 1.9.2
# runs cargo-zigbuild, which is tested against Zig 0.14 (0.15 changed its command line).
# The Rust target's standard library must be installed:
#   rustup target add aarch64-unknown-linux-gnu
set -euo pipefail

CARGO_LAMBDA_VERSION=1.9.2
ZIGLANG_VERSION=0.14.1

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

arch=--arm64
target=aarch64-unknown-linux-gnu
if [ "${1:-}" = "--x86-64" ]; then
  arch=--x86-64
  target=x86_64-unknown-linux-gnu
  shift
fi

# The binaries: template.yaml's Metadata.BuildProperties.Binary, one per function.
mapfile -t declared < <(sed -n 's/^ *Binary: *\([A-Za-z0-9_-]*\) *$/\1/p' template.yaml | sort -u)
if [ "${#declared[@]}" -eq 0 ]; then
  echo "template.yaml names no Binary" >&2
  exit 1
fi
if [ "$#" -gt 0 ]; then
  for bin in "$@"; do
    if ! printf '%s\n' "${declared[@]}" | grep -qx -- "$bin"; then
      echo "$bin is not a function binary of template.yaml" >&2
      exit 1
    fi
  done
  bins=("$@")
else
  bins=("${declared[@]}")
fi

venv=${LAMBDA_VENV:-$root/target/lambda-venv}
if ! "$venv/bin/cargo-lambda" --version 2>/dev/null | grep -q " $CARGO_LAMBDA_VERSION\b" ||
  ! "$venv/bin/python" -m ziglang version 2>/dev/null | grep -qx "$ZIGLANG_VERSION"; then
  echo "installing cargo-lambda $CARGO_LAMBDA_VERSION and Zig $ZIGLANG_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "cargo-lambda==$CARGO_LAMBDA_VERSION" "ziglang==$ZIGLANG_VERSION"
fi
# cargo-zigbuild finds Zig as `python3 -m ziglang`: the venv's python first.
export PATH="$venv/bin:$PATH"

if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
  echo "the Rust standard library for $target is not installed; installing it" >&2
  if ! rustup target add "$target"; then
    echo "could not install it: run 'rustup target add $target' where the Rust" >&2
    echo "distribution server is reachable, or build where it is installed" >&2
    exit 1
  fi
fi

bin_args=()
for bin in "${bins[@]}"; do
  bin_args+=(--bin "$bin")
done
started=$(date +%s)
cargo lambda build --release "$arch" --output-format zip "${bin_args[@]}"
elapsed=$(($(date +%s) - started))

target_dir=${CARGO_TARGET_DIR:-$root/target}
total=0
missing=0
printf '%-28s %12s\n' binary "zip (bytes)"
for bin in "${bins[@]}"; do
  zip=$target_dir/lambda/$bin/bootstrap.zip
  if [ -f "$zip" ]; then
    size=$(stat -c %s "$zip")
    total=$((total + size))
    printf '%-28s %12d  %s\n' "$bin" "$size" "$(numfmt --to=iec-i --suffix=B "$size")"
  else
    printf '%-28s %12s\n' "$bin" missing
    missing=$((missing + 1))
  fi
done
printf '%-28s %12d  %s\n' "total (${#bins[@]} zips)" "$total" "$(numfmt --to=iec-i --suffix=B "$total")"
echo "built in ${elapsed} s ($arch)"
if [ "$missing" -gt 0 ]; then
  echo "$missing zip(s) missing" >&2
  exit 1
fi
