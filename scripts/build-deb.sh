#!/usr/bin/env bash
# Builds the Debian package into OUT (default ./dist): the static binary,
# the systemd unit, sysusers and tmpfiles files, the configuration for
# /etc/archivd (the example with the system's paths) and the docs.
# Needs nfpm in .tools/bin (scripts/test.sh builds it from tools/go.mod).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
mkdir -p "$out"
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
export ARCHIVD_VERSION=${ARCHIVD_VERSION:-$(git describe --tags --always 2>/dev/null | sed 's/^v//; s/^\([^0-9]\)/0.0.0~\1/')}
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$ARCHIVD_VERSION -X main.commit=$commit" -o "$build/archivd" ./cmd/archivd
sed -e 's#^data_dir: ../var#data_dir: /var/lib/archivd#' \
    -e 's#path: ../var/storage#path: /var/lib/archivd/storage#' \
    -e 's#path: ../inbox/bauamt#path: /srv/archivd/inbox/bauamt#' \
    examples/archivd.yaml > "$build/archivd.yaml"
sed -e "s#\${ARCHIVD_BUILD}#$build#g" -e "s#\${ARCHIVD_VERSION}#$ARCHIVD_VERSION#g" packaging/nfpm.yaml > "$build/nfpm.yaml"
if [ ! -x .tools/bin/nfpm ]; then
  mkdir -p .tools/bin
  (cd tools && go build -o ../.tools/bin/nfpm github.com/goreleaser/nfpm/v2/cmd/nfpm)
fi
.tools/bin/nfpm pkg --config "$build/nfpm.yaml" --packager deb --target "$out/"
ls "$out"/archivd_*.deb
