#!/usr/bin/env bash
# Installs everything the tests and the demo need on a fresh Debian machine: system packages
# (PostgreSQL, ODBC drivers, Prometheus, Alertmanager, kcat, a JDK and Maven), the Python
# package in a virtual environment, and the pinned JVM artifacts. Safe to run again: each
# step is skipped when its result is already there.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

python=${PYTHON:-python3}
apt_packages=(postgresql-15 odbc-postgresql unixodbc-dev tdsodbc prometheus
  prometheus-alertmanager kcat openjdk-17-jre-headless maven gcc)
# The decoder's C extension (exporter/_rowscan.c) is built with the headers of the Python that
# makes the virtual environment; Debian's own python3 keeps them apart, in python3-dev.
if ! "$python" -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
  apt_packages+=(python3-dev)
fi
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing system packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  # The Debian packages start their own Prometheus and Alertmanager on the default ports;
  # the stack runs its own copies on free ports instead.
  for unit in prometheus prometheus-alertmanager prometheus-node-exporter; do
    $sudo_cmd systemctl disable --now "$unit" >/dev/null 2>&1 || true
    $sudo_cmd service "$unit" stop >/dev/null 2>&1 || true
  done
fi

if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
# Reinstalled when the package's build inputs change, so an edited C file is compiled again.
stamp=.venv/.installed-$(cat pyproject.toml setup.py exporter/_rowscan.c | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[test,confluent]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

scripts/fetch-jvm.sh
