/**
 * Boot script of a customer's web servers. Runs once on every new instance the auto scaling group
 * launches and does two things:
 *
 * 1. writes the customer's NON-SECRET settings to `/etc/webapp/settings.env` (shell syntax, one
 *    `KEY='value'` a line; `set -a; . /etc/webapp/settings.env` exports them). The database
 *    password is never here: only the ARN of its secret, which the app reads with its instance role;
 * 2. starts a placeholder HTTP server (`webapp-placeholder.service`, python3's http.server as the
 *    unprivileged `webapp` user) on the app port, answering 200 at `/` and at the health check path
 *    with a "no release deployed yet" page. A brand-new customer without a release therefore passes
 *    the ALB health check instead of being replaced over and over by the ELB health check.
 *
 * 3. installs and starts the CodeDeploy agent from the region's `aws-codedeploy-<region>` bucket
 *    (over NAT: the web servers may send HTTPS anywhere), which deploys the customer's releases.
 *
 * Deployment contract: the first deployment of a release stops and disables the placeholder
 * (`systemctl disable --now webapp-placeholder.service`) before its own service binds the app port,
 * and runs the app as the `webapp` user with `EnvironmentFile=/etc/webapp/settings.env`.
 *
 * Values may be Terraform tokens (the database host and secret ARN of a database created in the
 * same apply). Literal values are single-quoted here; tokens are single-quoted by Terraform at apply
 * time (Terraform's replace() turns each ' into '\'' first), so no value can break out of its
 * quotes either way. The rendered script is the text the instance runs; `terraformString` escapes
 * it for a Terraform string expression (base64encode) without touching the tokens.
 */
import { Fn, Token } from 'cdktf';

/** The placeholder's systemd unit. */
export const PLACEHOLDER_UNIT = 'webapp-placeholder.service';
/** The directory the placeholder serves. */
export const PLACEHOLDER_ROOT = '/var/lib/webapp/placeholder';
/** The non-secret settings file. */
export const SETTINGS_FILE = '/etc/webapp/settings.env';
/** The unprivileged user of the placeholder (and, by the deployment contract, of the app). */
export const APP_USER = 'webapp';
/** The CodeDeploy agent's systemd unit. */
export const CODEDEPLOY_AGENT_UNIT = 'codedeploy-agent.service';

/** The CodeDeploy agent's installer in the region's `aws-codedeploy-<region>` bucket. */
export function codeDeployAgentInstallerUrl(region: string): string {
  return `https://aws-codedeploy-${region}.s3.${region}.amazonaws.com/latest/install`;
}

export interface WebUserDataDatabase {
  /** Database endpoint host name (may be a token). */
  readonly host: string;
  /** Database port (may be a token). */
  readonly port: number;
  /** Database name inside the engine (may be a token). */
  readonly name: string;
  /** ARN of the Secrets Manager secret holding the credentials (may be a token); never the secret. */
  readonly secretArn: string;
}

export interface WebUserDataProps {
  readonly customer: string;
  readonly project: string;
  readonly environment: string;
  readonly region: string;
  /** Port the app (and until the first release, the placeholder) listens on, 1024-65535. */
  readonly appPort: number;
  /** URL path the ALB checks, e.g. /healthz. */
  readonly healthCheckPath: string;
  /** The customer's app log group. */
  readonly logGroup: string;
  /** The CloudWatch namespace the instance role may put metrics into. */
  readonly metricsNamespace: string;
  /** Artifact bucket name. */
  readonly artifactBucket: string;
  /** Key prefix of the customer's releases, e.g. software/shop/. */
  readonly releasePrefix: string;
  /** The customer's database, when it has one. */
  readonly database?: WebUserDataDatabase;
}

/** `'value'` for a literal (POSIX single quoting); for a token, the same quoting done by Terraform at apply time. */
export function shellQuote(value: string | number): string {
  if (typeof value === 'number') {
    if (Token.isUnresolved(value)) return `'${Token.asString(value)}'`;
    return `'${value}'`;
  }
  // The replacement is itself a Terraform string literal: its backslash is escaped for Terraform.
  if (Token.isUnresolved(value)) return `'${Fn.replace(value, "'", "'\\\\''")}'`;
  return `'${value.replace(/'/g, "'\\''")}'`;
}

/**
 * The file python's http.server answers a URL path with, relative to its directory, mirroring its
 * translate_path: percent-decoded, split on "/", empty and "." / ".." segments dropped; a path ending
 * in "/" (and "/" itself) is answered by that directory's index.html. Throws on paths it cannot serve.
 */
export function placeholderFileFor(urlPath: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    throw new Error(`healthCheckPath ${JSON.stringify(urlPath)} has invalid percent-encoding`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(decoded)) throw new Error(`healthCheckPath ${JSON.stringify(urlPath)} decodes to control characters`);
  const segments = decoded.split('/');
  if (segments.some((s) => s === '.' || s === '..')) throw new Error(`healthCheckPath ${JSON.stringify(urlPath)} has "." or ".." segments`);
  const words = segments.filter((s) => s !== '');
  return decoded.endsWith('/') ? [...words, 'index.html'].join('/') : words.join('/');
}

/**
 * The script as a Terraform string with tokens: escapes backslashes, double quotes and template
 * directives (`%{`) of the literal text. cdktf itself escapes newlines and `${` of literal parts;
 * token markers (`${TfToken[...]}`) contain none of these characters and stay intact.
 */
export function terraformString(script: string): string {
  return script.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%\{/g, '%%{');
}

const LITERAL_FORBIDDEN = /\$\{|%\{|[\u0000-\u001f\u007f]/;

export function webUserData(p: WebUserDataProps): string {
  const literals: Record<string, string | number> = {
    customer: p.customer,
    project: p.project,
    environment: p.environment,
    region: p.region,
    healthCheckPath: p.healthCheckPath,
    logGroup: p.logGroup,
    metricsNamespace: p.metricsNamespace,
    artifactBucket: p.artifactBucket,
    releasePrefix: p.releasePrefix,
  };
  for (const [key, value] of Object.entries(literals)) {
    if (typeof value === 'string' && (Token.isUnresolved(value) || LITERAL_FORBIDDEN.test(value))) {
      throw new Error(`webUserData: ${key} must be a literal without "\${", "%{" or control characters, got ${JSON.stringify(value)}`);
    }
  }
  if (!Number.isInteger(p.appPort) || p.appPort < 1024 || p.appPort > 65535) {
    throw new Error(`webUserData: appPort must be a whole number from 1024 to 65535, got ${p.appPort}`);
  }
  const healthFile = placeholderFileFor(p.healthCheckPath);

  const settings: [string, string | number][] = [
    ['CUSTOMER', p.customer],
    ['ENVIRONMENT', p.environment],
    ['PROJECT', p.project],
    ['AWS_REGION', p.region],
    ['APP_PORT', p.appPort],
    ['HEALTH_CHECK_PATH', p.healthCheckPath],
    ['LOG_GROUP', p.logGroup],
    ['METRICS_NAMESPACE', p.metricsNamespace],
    ['ARTIFACT_BUCKET', p.artifactBucket],
    ['RELEASE_PREFIX', p.releasePrefix],
  ];
  if (p.database) {
    settings.push(['DB_HOST', p.database.host], ['DB_PORT', p.database.port], ['DB_NAME', p.database.name], ['DB_SECRET_ARN', p.database.secretArn]);
  }
  const settingsLines = settings.map(([k, v]) => `${k}=${shellQuote(v)}`).join('\n');
  const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>No release deployed yet</title></head>
<body><h1>No release deployed yet</h1><p>${p.customer} (${p.environment}): the web server is up; no release has been deployed to it yet.</p></body></html>`;

  return `#!/bin/bash
# Web server bootstrap of ${p.customer} (${p.project}-${p.environment}), generated by the platform.
# Writes the non-secret settings and starts the placeholder server; the first deployment of a
# release stops and disables ${PLACEHOLDER_UNIT} before its app binds the port.
set -euo pipefail
exec > >(logger -t webapp-bootstrap -s) 2>&1

id -u ${APP_USER} >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin ${APP_USER}

# Non-secret settings, shell syntax: set -a; . ${SETTINGS_FILE}
install -d -m 0755 /etc/webapp
cat > ${SETTINGS_FILE} <<'WEBAPP_SETTINGS'
${settingsLines}
WEBAPP_SETTINGS
chown root:${APP_USER} ${SETTINGS_FILE}
chmod 0640 ${SETTINGS_FILE}

# Placeholder page at / and at the health check path (answers 200 until a release replaces it).
install -d -m 0755 -o ${APP_USER} -g ${APP_USER} ${PLACEHOLDER_ROOT}
cat > ${PLACEHOLDER_ROOT}/index.html <<'WEBAPP_PAGE'
${page}
WEBAPP_PAGE
HEALTH_FILE=${shellQuote(`${PLACEHOLDER_ROOT}/${healthFile}`)}
install -d -m 0755 "$(dirname "$HEALTH_FILE")"
[ "$HEALTH_FILE" = ${PLACEHOLDER_ROOT}/index.html ] || cp ${PLACEHOLDER_ROOT}/index.html "$HEALTH_FILE"
chown -R ${APP_USER}:${APP_USER} ${PLACEHOLDER_ROOT}

cat > /etc/systemd/system/${PLACEHOLDER_UNIT} <<'WEBAPP_UNIT'
[Unit]
Description=Placeholder web server until the first release is deployed (the deployment disables it)
After=network-online.target
Wants=network-online.target

[Service]
User=${APP_USER}
Group=${APP_USER}
ExecStart=/usr/bin/python3 -m http.server ${p.appPort} --bind 0.0.0.0 --directory ${PLACEHOLDER_ROOT}
Restart=always
RestartSec=2
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
WEBAPP_UNIT
systemctl daemon-reload
systemctl enable --now ${PLACEHOLDER_UNIT}

# CodeDeploy agent (deploys the customer's releases), from the region's own bucket over HTTPS (NAT).
# Last, so the placeholder already answers the health check if the download has to be retried.
dnf install -y ruby
for attempt in 1 2 3 4 5; do
  curl -fsS --retry 3 -o /tmp/codedeploy-install ${codeDeployAgentInstallerUrl(p.region)} && break
  sleep 15
done
chmod 0755 /tmp/codedeploy-install
/tmp/codedeploy-install auto
rm -f /tmp/codedeploy-install
systemctl enable --now ${CODEDEPLOY_AGENT_UNIT}
`;
}
