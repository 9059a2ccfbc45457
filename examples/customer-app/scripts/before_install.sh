#!/bin/bash
# BeforeInstall: retire the platform's placeholder server (first release; a no-op afterwards) and
# clear the previous release's files, so the copy starts clean.
set -euo pipefail
systemctl disable --now webapp-placeholder.service 2>/dev/null || true
systemctl stop webapp.service 2>/dev/null || true
rm -rf /opt/webapp/app
install -d -m 0755 /opt/webapp
