#!/bin/sh
# Stop the service before its files go; cases in flight resume later.
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
  systemctl disable --now archivd.service || true
fi
