#!/bin/bash
# ApplicationStart: start the app now and on every boot.
set -euo pipefail
systemctl enable --now webapp.service
