/**
 * Pure rules of a customer's machine-image delivery (infrastructure repository → Packer bake in
 * CodeBuild → approval in production → rollout by instance refresh): the recipe contract, the two
 * buildspecs, and the rollout program's settings. docs/CUSTOMERS.md documents the contract.
 */
import YAML from 'yaml';
import { ARTIFACT_PREFIXES } from './artifact-layout';
import { ROLLOUT_POLL_SECONDS, ROLLOUT_TIMEOUT_MINUTES, rolloutPreferences } from '../../lambdas/image-rollout/contract';

// The rollout program's own contract (it is bundled alone, so it lives with the program).
export { ROLLOUT_POLL_SECONDS, ROLLOUT_TIMEOUT_MINUTES, rolloutPreferences };

/**
 * Packer release the bake installs from releases.hashicorp.com (linux_arm64, the build image's
 * architecture). Pinned: a new Packer is a reviewed change of this line, not a surprise in a build.
 */
export const PACKER_VERSION = '1.11.2';
/** The recipe file at the root of the infrastructure repository (the zip). */
export const IMAGE_RECIPE_FILE = 'image.pkr.hcl';
/** Where the recipe's manifest post-processor must write (the AMI id is read from it). */
export const PACKER_MANIFEST_FILE = 'packer-manifest.json';
/** The bake's output artifact file: `{ imageId, commit, customer, environment }`, the rollout's input. */
export const IMAGE_RESULT_FILE = 'image.json';
/**
 * The Packer variables the platform passes (`-var name=value`), in this order. The recipe must
 * declare every one of them (Packer rejects a -var the recipe does not declare).
 */
export const IMAGE_RECIPE_VARIABLES = [
  'region',
  'subnet_id',
  'security_group_id',
  'instance_profile',
  'kms_key_id',
  'project',
  'customer',
  'environment',
  'commit',
  'base_ami',
] as const;
/** Tags the platform puts on every AMI (and its snapshots) it bakes, whatever the recipe does. */
export const IMAGE_TAG_KEYS = ['customer', 'environment', 'project', 'commit'] as const;

/** Base image of a customer's recipe: Amazon Linux 2023 of the web tier's architecture (the same parameter as the web tier's first image). */
export function baseImageParameter(architecture: 'arm64' | 'x86_64'): string {
  return `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${architecture}`;
}

/** Key of the rollout program (zipped image-rollout.js) in the artifact bucket (shipped by the environment stack). */
export const IMAGE_ROLLOUT_TOOL_KEY = `${ARTIFACT_PREFIXES.tooling}image-rollout.zip`;

/** CodeBuild timeouts, minutes: a bake (Packer: launch, provision, snapshot) and a rollout (the program's own timeout plus margin). */
export const BAKE_BUILD_TIMEOUT_MINUTES = 60;
export const ROLLOUT_BUILD_TIMEOUT_MINUTES = ROLLOUT_TIMEOUT_MINUTES + 15;

/** Environment variables of the bake project (set by the construct, read by the buildspec). */
export interface BakeSettings {
  readonly project: string;
  readonly customer: string;
  readonly environment: string;
  readonly region: string;
  readonly subnetId: string;
  readonly securityGroupId: string;
  readonly instanceProfile: string;
  readonly kmsKeyArn: string;
  readonly baseImageParameter: string;
  readonly artifactBucket: string;
}

const Q = (name: string) => `"$${name}"`;

/**
 * The bake's buildspec: install the pinned Packer (checksum checked against HashiCorp's SHA256SUMS),
 * read the pushed commit from the source zip's `commit-sha` metadata, resolve the base AMI, then
 * `packer init`, `packer validate` and `packer build` of image.pkr.hcl with the platform's
 * variables; read the AMI id from the manifest, tag the AMI and its snapshots, write image.json.
 * SOURCE_KEY and SOURCE_VERSION_ID come from the pipeline (the source action's output variables).
 */
export function bakeBuildspec(): string {
  const vars = IMAGE_RECIPE_VARIABLES.map((v) => `-var ${v}=${Q(`PKR_${v.toUpperCase()}`)}`).join(' ');
  const zip = `packer_${PACKER_VERSION}_linux_arm64.zip`;
  const base = `https://releases.hashicorp.com/packer/${PACKER_VERSION}`;
  return YAML.stringify({
    version: 0.2,
    env: { shell: 'bash' },
    phases: {
      install: {
        commands: [
          'set -euo pipefail',
          `curl -fsSLo /tmp/${zip} ${base}/${zip}`,
          `curl -fsSLo /tmp/packer_SHA256SUMS ${base}/packer_${PACKER_VERSION}_SHA256SUMS`,
          `(cd /tmp && grep " ${zip}$" packer_SHA256SUMS | sha256sum -c -)`,
          `unzip -o -d /usr/local/bin /tmp/${zip} packer`,
          'packer version',
        ],
      },
      pre_build: {
        commands: [
          'set -euo pipefail',
          `test -f ${IMAGE_RECIPE_FILE} || { echo "the infrastructure repository has no ${IMAGE_RECIPE_FILE} at its root (docs/CUSTOMERS.md)"; exit 2; }`,
          'export PKR_COMMIT=$(aws s3api head-object --bucket "$ARTIFACT_BUCKET" --key "$SOURCE_KEY" --version-id "$SOURCE_VERSION_ID" --query \'Metadata."commit-sha"\' --output text)',
          'echo "$PKR_COMMIT" | grep -Eq \'^[0-9a-f]{40}$\' || { echo "no commit-sha on s3://$ARTIFACT_BUCKET/$SOURCE_KEY version $SOURCE_VERSION_ID"; exit 2; }',
          'export PKR_BASE_AMI=$(aws ssm get-parameter --name "$BASE_IMAGE_PARAMETER" --query Parameter.Value --output text)',
          `packer init ${IMAGE_RECIPE_FILE}`,
          `packer validate ${vars} ${IMAGE_RECIPE_FILE}`,
        ],
      },
      build: {
        commands: [
          'set -euo pipefail',
          `rm -f ${PACKER_MANIFEST_FILE}`,
          `packer build -color=false ${vars} ${IMAGE_RECIPE_FILE}`,
          // The manifest post-processor's last build: "artifact_id": "<region>:ami-...".
          `export IMAGE_ID=$(node -e 'const m=require("./${PACKER_MANIFEST_FILE}");const b=m.builds[m.builds.length-1];process.stdout.write(String(b.artifact_id).split(",").pop().split(":").pop())')`,
          `echo "$IMAGE_ID" | grep -Eq '^ami-[0-9a-f]{8,17}$' || { echo "no AMI id in ${PACKER_MANIFEST_FILE} (does the recipe have a manifest post-processor?)"; exit 3; }`,
          'SNAPSHOTS=$(aws ec2 describe-images --image-ids "$IMAGE_ID" --query \'Images[0].BlockDeviceMappings[].Ebs.SnapshotId\' --output text)',
          // The platform's tags, whatever the recipe set: the rollout and `npm run releases` rely on them.
          'aws ec2 create-tags --resources "$IMAGE_ID" $SNAPSHOTS --tags Key=customer,Value="$PKR_CUSTOMER" Key=environment,Value="$PKR_ENVIRONMENT" Key=project,Value="$PKR_PROJECT" Key=commit,Value="$PKR_COMMIT"',
          // Every value is checked above or by the platform's naming rules: no JSON escaping needed.
          `printf '{"imageId":"%s","commit":"%s","customer":"%s","environment":"%s"}' "$IMAGE_ID" "$PKR_COMMIT" "$PKR_CUSTOMER" "$PKR_ENVIRONMENT" > ${IMAGE_RESULT_FILE}`,
          `cat ${IMAGE_RESULT_FILE}`,
        ],
      },
    },
    artifacts: { files: [IMAGE_RESULT_FILE] },
  });
}

/** The bake project's environment variables (PKR_* are the recipe's variables). */
export function bakeEnvironment(s: BakeSettings): { name: string; value: string }[] {
  return [
    { name: 'ARTIFACT_BUCKET', value: s.artifactBucket },
    { name: 'BASE_IMAGE_PARAMETER', value: s.baseImageParameter },
    { name: 'PKR_REGION', value: s.region },
    { name: 'PKR_SUBNET_ID', value: s.subnetId },
    { name: 'PKR_SECURITY_GROUP_ID', value: s.securityGroupId },
    { name: 'PKR_INSTANCE_PROFILE', value: s.instanceProfile },
    { name: 'PKR_KMS_KEY_ID', value: s.kmsKeyArn },
    { name: 'PKR_PROJECT', value: s.project },
    { name: 'PKR_CUSTOMER', value: s.customer },
    { name: 'PKR_ENVIRONMENT', value: s.environment },
  ];
}

/** The rollout's buildspec: fetch the rollout program from the artifact bucket and run it on image.json. */
export function rolloutBuildspec(): string {
  return YAML.stringify({
    version: 0.2,
    env: { shell: 'bash' },
    phases: {
      build: {
        commands: [
          'set -euo pipefail',
          `aws s3 cp "s3://$ARTIFACT_BUCKET/${IMAGE_ROLLOUT_TOOL_KEY}" /tmp/image-rollout.zip`,
          'unzip -o /tmp/image-rollout.zip image-rollout.js -d /tmp',
          `IMAGE_FILE="$CODEBUILD_SRC_DIR/${IMAGE_RESULT_FILE}" node /tmp/image-rollout.js`,
        ],
      },
    },
  });
}
