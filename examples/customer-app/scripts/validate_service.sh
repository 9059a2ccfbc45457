#!/bin/bash
# ValidateService: the app must answer its health check on this instance within 90 s, or the
# deployment fails here (and rolls back) before the instance takes traffic again.
set -euo pipefail
set -a; . /etc/webapp/settings.env; set +a
url="http://127.0.0.1:${APP_PORT}${HEALTH_CHECK_PATH}"
for _ in $(seq 1 45); do
  if curl -fsS --max-time 2 -o /dev/null "$url"; then echo "healthy: $url"; exit 0; fi
  sleep 2
done
echo "not healthy after 90 s: $url" >&2
systemctl status webapp.service --no-pager >&2 || true
exit 1
