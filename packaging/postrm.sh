#!/bin/sh
# The data directory (/var/lib/archivd) and the inboxes stay: an archive is
# never deleted by removing a package.
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
