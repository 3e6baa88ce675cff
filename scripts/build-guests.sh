#!/usr/bin/env bash
# Builds the zkVM guest ELFs (SP1 and ZisK) with Debian's rustc + library source, following
# ../shared/ZKVM.md (rustup here cannot download RISC-V targets). Installs what it needs with apt.
# Output: target/guests/zkclob-guest-sp1.elf and target/guests/zkclob-guest-zisk.elf (or
# $ZKCLOB_GUEST_OUT/...).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="${ZKCLOB_GUEST_OUT:-$root/target/guests}"
mkdir -p "$out"

if ! [ -x /usr/bin/rustc ] || ! [ -d /usr/lib/rustlib/src/rust/library ] || ! command -v rust-lld >/dev/null 2>&1 && ! [ -x /usr/bin/rust-lld ]; then
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq rustc-web cargo-web rust-web-src rust-web-llvm lld-22 >/dev/null
fi
# The ZisK guest's `zisk-zkvm-interface` runs bindgen in its build script, which needs libclang
# and clang's own headers (stdbool.h); a fresh machine has neither.
if ! command -v clang >/dev/null 2>&1 \
  || ! ls /usr/lib/llvm-*/lib/libclang.so* /usr/lib/llvm-*/lib/libclang-[0-9]*.so* >/dev/null 2>&1; then
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq libclang-dev clang >/dev/null
fi
unset RUSTUP_TOOLCHAIN
export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
export PATH="/usr/bin:$PATH"
target_dir="${ZKCLOB_GUEST_TARGET_DIR:-$root/target/guest-build}"
mkdir -p "$target_dir"

build_sp1() {
  local flags=(-C passes=lower-atomic -C link-arg=--image-base=2013265920 -C panic=abort
    --cfg 'getrandom_backend="custom"' -C llvm-args=-misched-prera-direction=bottomup
    -C llvm-args=-misched-postra-direction=bottomup)
  local IFS=$'\x1f'
  CARGO_ENCODED_RUSTFLAGS="${flags[*]}" /usr/bin/cargo build --quiet --release \
    --manifest-path "$root/guest/sp1/Cargo.toml" \
    --target "$root/zkvm/riscv64im-succinct-zkvm-elf.json" \
    -Zbuild-std=std,panic_abort -Zbuild-std-features=compiler-builtins-mem -Zjson-target-spec \
    --target-dir "$target_dir/sp1"
  cp "$target_dir/sp1/riscv64im-succinct-zkvm-elf/release/zkclob-guest-sp1" "$out/zkclob-guest-sp1.elf"
  echo "sp1 guest: $out/zkclob-guest-sp1.elf ($(stat -c %s "$out/zkclob-guest-sp1.elf") bytes)"
}

zisk_linker_script() {
  # The linker script ships inside the zisk-build 1.4.0-alpha crate: fetch the crate with a
  # throwaway manifest and use the file from the cargo registry (nothing third-party is committed).
  local fetch="$target_dir/zisk-build-fetch"
  mkdir -p "$fetch/src"
  printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n[workspace]\n[dependencies]\nzisk-build = "=1.4.0-alpha"\n' >"$fetch/Cargo.toml"
  echo 'fn main() {}' >"$fetch/src/main.rs"
  /usr/bin/cargo fetch --quiet --manifest-path "$fetch/Cargo.toml"
  local script
  script=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/zisk-build-1.4.0-alpha/zisk_linker_script.ld | head -n 1)
  cp "$script" "$target_dir/zisk_linker_script.ld"
}

build_zisk() {
  zisk_linker_script
  local flags=(-C passes=lower-atomic -C panic=abort --cfg 'getrandom_backend="custom"'
    -C target-feature=+unaligned-scalar-mem --cfg zisk_guest
    -C "link-arg=-T$target_dir/zisk_linker_script.ld")
  local IFS=$'\x1f'
  CARGO_ENCODED_RUSTFLAGS="${flags[*]}" /usr/bin/cargo build --quiet --release \
    --manifest-path "$root/guest/zisk/Cargo.toml" \
    --target "$root/zkvm/riscv64ima-zisk-zkvm-elf.json" \
    -Zbuild-std=std,panic_abort -Zbuild-std-features=compiler-builtins-mem -Zjson-target-spec \
    --target-dir "$target_dir/zisk"
  cp "$target_dir/zisk/riscv64ima-zisk-zkvm-elf/release/zkclob-guest-zisk" "$out/zkclob-guest-zisk.elf"
  echo "zisk guest: $out/zkclob-guest-zisk.elf ($(stat -c %s "$out/zkclob-guest-zisk.elf") bytes)"
}

case "${1:-all}" in
  sp1) build_sp1 ;;
  zisk) build_zisk ;;
  all) build_sp1; build_zisk ;;
  *) echo "usage: $0 [sp1|zisk|all]" >&2; exit 2 ;;
esac
