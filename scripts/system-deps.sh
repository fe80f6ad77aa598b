#!/usr/bin/env bash
# Debian packages the tests need: Chromium for the browser tests (Playwright drives the
# system browser; its own browser download does not work on a closed network), and Redis
# for the cluster mode (`lightbox cluster up`, the cluster smoke test: the Celery broker).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: please install ${missing[*]} (apt-get install -y ${missing[*]}); the tests need them" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
