#!/bin/bash
# AfterInstall: the files are in place; make them readable by the app user only, reload systemd.
set -euo pipefail
chown -R root:webapp /opt/webapp/app
chmod -R u=rwX,g=rX,o= /opt/webapp/app
chmod 0644 /etc/systemd/system/webapp.service
systemctl daemon-reload
