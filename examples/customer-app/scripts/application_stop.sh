#!/bin/bash
# ApplicationStop (the previous release's copy runs): stop the app if it runs.
set -euo pipefail
systemctl stop webapp.service 2>/dev/null || true
