#!/usr/bin/env bash
# Install AdForge into .venv. Usage: scripts/install.sh core|test
#   core: system fonts + the core package (what `make demo` needs)
#   test: core + the ml extra (CPU torch) + the dev extra (what `make test` needs)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-core}"
PYTHON="${PYTHON:-python3}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  # Installs Debian packages that are not there yet (needs root or sudo).
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing system packages: ${missing[*]}"
  as_root apt-get update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# Fonts: Korean, Chinese and Japanese glyphs (Noto CJK), Latin (DejaVu), and fontconfig.
if command -v dpkg >/dev/null 2>&1; then
  apt_install fontconfig fonts-noto-cjk fonts-dejavu-core
  # Headless Chromium: the service tests look at the Prefect UI (run form, artifacts).
  if [ "$what" = "test" ]; then apt_install chromium; fi
  # PostgreSQL server binaries (initdb, pg_ctl): tests/integration starts a throwaway cluster.
  if [ "$what" = "test" ] && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    apt_install postgresql
  fi
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip

if [ "$what" = "test" ]; then
  # CPU torch first (a local build on these machines), then everything else pinned to it.
  .venv/bin/pip install -q "torch==2.13.0"
  .venv/bin/pip install -q -c constraints/torch-cpu.txt -e ".[ml,dev]"
else
  .venv/bin/pip install -q -e .
fi
