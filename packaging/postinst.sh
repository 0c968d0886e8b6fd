#!/bin/sh
# The user, the folders, and systemd told about the unit. The service is
# enabled but not started: the configuration in /etc/archivd needs the
# archive's own settings first (archivd config check /etc/archivd/archivd.yaml).
set -e
if command -v systemd-sysusers >/dev/null; then systemd-sysusers archivd.conf; fi
if command -v systemd-tmpfiles >/dev/null; then systemd-tmpfiles --create archivd.conf; fi
chgrp archivd /etc/archivd/archivd.yaml 2>/dev/null || true
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable archivd.service >/dev/null
  systemctl try-restart archivd.service
fi
