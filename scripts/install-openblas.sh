#!/usr/bin/env bash
# Installs the system OpenBLAS that the `blas` feature of llc-cli and xtask links against
# (Debian's libopenblas-dev). Safe to run again: it does nothing when the library is already there.
#
#   bash scripts/install-openblas.sh
#   cargo build --release -p llc-cli --features blas
set -euo pipefail

have_openblas() {
  # The linker needs libopenblas.so (the -dev package); the loader needs libopenblas.so.0.
  if command -v ldconfig >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so '; then
    return 0
  fi
  if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists openblas 2>/dev/null; then
    return 0
  fi
  return 1
}

if have_openblas; then
  echo "OpenBLAS is already installed; nothing to do."
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: OpenBLAS is missing and apt-get is not available; install your system's OpenBLAS" \
    "development package (e.g. openblas-devel, openblas) by hand, or build without --features blas." >&2
  exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "error: installing libopenblas-dev needs root, and sudo is not available." >&2
    exit 1
  fi
fi

echo "Installing libopenblas-dev with apt-get …"
$sudo apt-get update
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y libopenblas-dev

if have_openblas; then
  echo "OpenBLAS installed."
else
  echo "error: apt-get finished but libopenblas.so is still not found." >&2
  exit 1
fi
