#!/usr/bin/env bash
# Builds the consensus crates (zkclob-core, zkclob-book, zkclob-state, and zkclob-rollup's decoders) for the SP1 RISC-V zkVM target with only
# `core` and `alloc` available. A dependency that needs `std` fails this build, so it proves the
# crates are `no_std` + alloc and that they compile for RV64IM, the guests' architecture.
#
# Needs Debian's rustc/cargo 1.96 with the library source (rustup here cannot download targets or
# rust-src); installs them with apt when missing. See ../shared/ZKVM.md and docs/architecture.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

need_install=0
[ -x /usr/bin/rustc ] && [ -x /usr/bin/cargo ] || need_install=1
[ -d /usr/lib/rustlib/src/rust/library ] || need_install=1
if [ "$need_install" = 1 ]; then
  echo "installing Debian's rust toolchain with library source (rustc-web, cargo-web, rust-web-src)"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq rustc-web cargo-web rust-web-src rust-web-llvm lld-22 >/dev/null
fi

unset RUSTUP_TOOLCHAIN
export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
target="$root/zkvm/riscv64im-succinct-zkvm-elf.json"
target_dir="${ZKCLOB_NOSTD_TARGET_DIR:-$root/target/nostd}"
echo "building zkclob-core, zkclob-book and zkclob-state for riscv64im-succinct-zkvm-elf with core+alloc only ($(/usr/bin/rustc --version))"
/usr/bin/cargo build --quiet --release \
  --manifest-path "$root/Cargo.toml" -p zkclob-core -p zkclob-book -p zkclob-state \
  --target "$target" -Zbuild-std=core,alloc -Zjson-target-spec \
  --target-dir "$target_dir"
# The rollup's decoders (blob unpacking, inflate, batch data, blob polynomial evaluation) are what
# the guest will run for the proof of equivalence: they must build the same way.
/usr/bin/cargo build --quiet --release \
  --manifest-path "$root/Cargo.toml" -p zkclob-rollup --no-default-features \
  --target "$target" -Zbuild-std=core,alloc -Zjson-target-spec \
  --target-dir "$target_dir"
ls "$target_dir"/riscv64im-succinct-zkvm-elf/release/libzkclob_rollup.rlib >/dev/null
ls "$target_dir"/riscv64im-succinct-zkvm-elf/release/libzkclob_core.rlib "$target_dir"/riscv64im-succinct-zkvm-elf/release/libzkclob_book.rlib "$target_dir"/riscv64im-succinct-zkvm-elf/release/libzkclob_state.rlib >/dev/null
echo "no_std build of zkclob-core, zkclob-book, zkclob-state and zkclob-rollup (no default features) for RISC-V: ok"
