#!/usr/bin/env bash
# The test command (README.md): builds the Linux test guests (cached in ~/.cache/jkvm after the first
# build) and runs every module's tests, then drives the API with curl. KVM tests run where /dev/kvm is
# usable and skip elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
bash guests/linux/build-guests.sh
mvn -B -ntp verify
bash scripts/api-curl-test.sh   # the API through curl --unix-socket, with the jar just built
