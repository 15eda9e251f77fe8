# Sourced by scripts/build-eif and scripts/build-snp: one build of the image tool and of the
# static enclave for both platforms. Expects $root; reads AIP_BUILD_TARGET_DIR (default
# target/eif); sets $tool (aip-attest) and $enclave (the static aip-enclave).
# shellcheck shell=bash

# shellcheck source=../../build.env
set -a; . "$root/build.env"; set +a
cargo_home=${CARGO_HOME:-$HOME/.cargo}
target_dir=${AIP_BUILD_TARGET_DIR:-$root/target/eif}

# The image tool runs on the build machine: an ordinary build, not part of the image, and
# without AWS's image crate (no OpenSSL needed; the tests check our writer against it).
(cd "$root" && cargo build --locked --quiet -p aip-attestation --bin aip-attest --no-default-features \
  --features image,fetch --target-dir "$target_dir/tool")
tool="$target_dir/tool/debug/aip-attest"

# The enclave: release, static. No dev features: the dev attestation cannot
# compile into a release build.
# Cargo names our own crates' sources relative to the workspace, so the checkout's path never
# reaches the binary and is not in the flags either (the flags are the same wherever the
# checkout is); the Cargo home's registry paths are remapped.
(cd "$root" && RUSTFLAGS="$AIP_ENCLAVE_RUSTFLAGS --remap-path-prefix=$cargo_home=$AIP_CARGO_HOME_PREFIX" \
  cargo build --locked --release --quiet -p aip-enclave --bin aip-enclave \
  --target "$AIP_ENCLAVE_TARGET" --target-dir "$target_dir")
enclave="$target_dir/$AIP_ENCLAVE_TARGET/release/aip-enclave"
