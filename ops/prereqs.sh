#!/usr/bin/env bash
# What `make demo` and `make test` need from the machine: Java 17+ and Maven (the broker jars),
# promtool (the alert-rule tests), bc (kafka.sh), Python's venv module. Installs what is
# missing with apt-get when it can (root on Debian/Ubuntu, as CI does); otherwise stops at
# once naming what to install.
#
#   ops/prereqs.sh [demo|test]     demo needs no promtool
set -euo pipefail
goal="${1:-test}"
python="${PYTHON:-python3}"

missing=() packages=()
need() {  # command, Debian package
  command -v "$1" >/dev/null 2>&1 || { missing+=("$1"); packages+=("$2"); }
}
need java openjdk-17-jre-headless
need mvn maven
need bc bc
[[ "$goal" == test ]] && need promtool prometheus
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  missing+=("python venv"); packages+=(python3-venv)
fi
(( ${#missing[@]} )) || exit 0

if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "prereqs: installing Debian packages: ${packages[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  exit 0
fi
echo "prereqs: missing ${missing[*]}; install them first, e.g." >&2
echo "  sudo apt-get install ${packages[*]}" >&2
exit 1
