#!/usr/bin/env bash
# Runs archivd's whole test suite on a fresh machine: installs the tools the
# tests call (xmllint, zstd, GNU tar, coreutils, systemd-analyze, chromium,
# pdftotext, openssl, qpdf), checks the static build,
# runs every test with the race detector, then each fuzz target briefly.
# Usage: scripts/test.sh        (FUZZTIME=30s scripts/test.sh for longer fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v xmllint >/dev/null || need+=(libxml2-utils)
command -v zstd >/dev/null || need+=(zstd)
command -v mkfifo >/dev/null || need+=(coreutils)
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v dpkg-deb >/dev/null || need+=(dpkg)
command -v chromium >/dev/null || need+=(chromium)        # prints the fixity report's HTML to PDF
command -v pdftotext >/dev/null || need+=(poppler-utils)  # reads that PDF's text back
command -v openssl >/dev/null || need+=(openssl)          # docs/verify-reports.md's procedure
command -v qpdf >/dev/null || need+=(qpdf)                # the native PDF validator is checked against qpdf --check
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ! -d ../shared/data ]; then
  echo "scripts/test.sh: ../shared/data (the test corpus) must sit beside the checkout" >&2
  exit 1
fi

echo "== S3 test server (versitygw, built from the Go module proxy via tools/go.mod)"
if [ ! -x .tools/bin/versitygw ]; then
  mkdir -p .tools/bin
  (cd tools && go build -o ../.tools/bin/versitygw github.com/versity/versitygw/cmd/versitygw)
fi
echo "versitygw: $(.tools/bin/versitygw --version 2>&1 | tr "\n" " ")"
echo "== second S3 test server (MinIO, from the Go module proxy via tools/minio/go.mod; a few minutes the first time)"
if [ ! -x .tools/bin/minio ]; then
  (cd tools/minio && go build -o ../../.tools/bin/minio github.com/minio/minio)
fi
echo "minio: $(.tools/bin/minio --version 2>&1 | head -n 1)"
echo "== nfpm (the Debian package builder, from the Go module proxy via tools/go.mod)"
if [ ! -x .tools/bin/nfpm ]; then
  (cd tools && go build -o ../.tools/bin/nfpm github.com/goreleaser/nfpm/v2/cmd/nfpm)
fi

echo "== static build (CGO_ENABLED=0)"
CGO_ENABLED=0 go build -o /dev/null ./cmd/archivd
echo "== go vet"
go vet ./...
echo "== go test -race"
go test -race -count=1 ./...

echo "== fuzzing (${FUZZTIME:=10s} per target)"
# A failing input is saved under <pkg>/testdata/fuzz/<target>/ and fails the
# run. A fuzzing run that stops without one (the engine's own trouble, e.g.
# a worker killed on a loaded machine) is shown and tried once more.
inputs() { if [ -d "$1" ]; then find "$1" -type f | wc -l; else echo 0; fi; }
fuzz() {
  local log corpus="$1/testdata/fuzz/$2" before
  log=$(mktemp)
  for try in 1 2; do
    before=$(inputs "$corpus")
    if go test "$1" -run '^$' -fuzz "^$2\$" -fuzztime "$FUZZTIME" >"$log" 2>&1; then
      echo "fuzz $2 ok"; rm -f "$log"; return
    fi
    if [ "$(inputs "$corpus")" -gt "$before" ]; then
      echo "fuzz $2 failed: a failing input was saved in $corpus"; tail -n 40 "$log"; go test "$1" -run "^$2\$"; exit 1
    fi
    echo "fuzz $2: the fuzzing run stopped without a failing input (try $try):"; tail -n 20 "$log"
  done
  echo "fuzz $2 failed twice"; exit 1
}
fuzz ./aip FuzzMapPath
fuzz ./aip FuzzEscapePath
fuzz ./aip FuzzParseManifest
fuzz ./aip FuzzParseIndex
fuzz ./ocfl FuzzValidateInventory
fuzz ./formats FuzzParsePattern
fuzz ./formats FuzzSignatureFile
fuzz ./formats FuzzIdentify
fuzz ./formats FuzzValidate
fuzz ./audit FuzzEntryBytes
echo "== all tests passed"
