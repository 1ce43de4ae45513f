# Shared steps of scripts/start and scripts/test: install only what is missing.
# shellcheck shell=bash

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Install Debian packages that are not installed yet (one apt-get update, only if needed).
ensure_debs() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "==> Installing system packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# Pick a Python 3.11+ (the one on PATH, or Debian's).
find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null &&
       "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  echo "Commonshed needs Python 3.11 or newer with venv (apt-get install python3-venv)." >&2
  return 1
}

# Create .venv once and install the project with the given extras (editable).
ensure_venv() {
  local extras=$1 python
  python=$(find_python)
  if [ ! -x .venv/bin/python ]; then
    echo "==> Creating .venv with $python"
    "$python" -m venv .venv
  fi
  local stamp=".venv/.installed-$extras"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "==> Installing Python packages [$extras]"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[$extras]"
    # mfrc522 pins RPi.GPIO/spidev, which only build on a Pi: take the library alone.
    .venv/bin/python -m pip install -q --no-deps "mfrc522==0.0.7"
    touch "$stamp"
  fi
}

# Start the machine's PostgreSQL cluster if it is installed but not running.
ensure_postgres() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "==> Starting PostgreSQL"
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
      as_root pg_ctlcluster "$version" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  pg_isready -h 127.0.0.1 -p 5432 >/dev/null || { echo "PostgreSQL did not start." >&2; return 1; }
  # A fresh Debian cluster asks for a password over TCP: give the test role a known one.
  if ! psql "postgresql://postgres:postgres@127.0.0.1:5432/postgres" -qtAc "select 1" >/dev/null 2>&1; then
    as_root runuser -u postgres -- psql -qc "ALTER USER postgres PASSWORD 'postgres'" >/dev/null
  fi
  export COMMONSHED_TEST_PG_URL="postgresql://postgres:postgres@127.0.0.1:5432/postgres"
}
