#!/usr/bin/env bash
# Debian packages the tests need: Chromium for the browser tests (Playwright drives the
# system browser; its own browser download does not work on a closed network).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: please install ${missing[*]} (apt-get install -y ${missing[*]}); the browser tests need it" >&2
  exit 1
fi
echo "system-deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
