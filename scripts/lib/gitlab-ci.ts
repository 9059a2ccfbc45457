/**
 * The GitLab merge-request pipeline, generated from the platform config: one plan job per stack and
 * one deploy job per environment, in config order. `npm run gitlab-ci` (scripts/gitlab-ci.ts) writes
 * it to .gitlab-ci.yml; __tests__/gitlab-ci.test.ts fails when the committed file is not what this
 * module generates from the committed config.
 *
 * Pure: takes the validated config and returns the pipeline (object or YAML text); reads no files
 * and no environment.
 */
import YAML from 'yaml';
import { EnvironmentConfig, PlatformConfig } from '../../stacks/model/config/validate';
import { BOOTSTRAP_STACK } from '../../stacks/platform';
import { customerStackName } from '../../stacks/model/naming';

/** Terraform version of every job (also the default of scripts/ci/install-terraform.sh). */
export const TERRAFORM_VERSION = '1.11.4';
/** The one image of every job. */
export const NODE_IMAGE = 'node:20-bookworm';
export const DEFAULT_CONFIG_PATH = 'config/platform.yaml';
export const PIPELINE_FILE = '.gitlab-ci.yml';
export const STAGES = ['install', 'test', 'synth', 'plan', 'deploy'] as const;
/** Where the plan jobs write the OIDC token for the AWS SDK (inside the job's own checkout, never an artifact). */
export const WEB_IDENTITY_TOKEN_FILE = '$CI_PROJECT_DIR/.gitlab-oidc-token';

const NPM_CI = 'npm ci --prefer-offline --no-audit --no-fund';
const INSTALL_TERRAFORM = 'bash scripts/ci/install-terraform.sh "$TERRAFORM_VERSION" /usr/local/bin';
const WRITE_TOKEN = 'printf \'%s\' "$AWS_ID_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"';

export interface PipelineOptions {
  /**
   * The config file as CI must read it: a path relative to the repository root. Default
   * config/platform.yaml; any other path is passed to `npm run synth` as PLATFORM_CONFIG.
   */
  readonly configPath?: string;
}

type Job = Record<string, unknown>;

/** Scheduled pipelines (the weekly mutation run): only the mutate job, never a plan or a deploy. */
export const SCHEDULE_RULE = { if: '$CI_PIPELINE_SOURCE == "schedule"' } as const;
const NOT_ON_SCHEDULE: Job = { ...SCHEDULE_RULE, when: 'never' };

/** The job's rules with "not in scheduled pipelines" first; a job without rules runs on_success otherwise. */
function notOnSchedule(job: Job): Job {
  const rules = (job.rules as Job[] | undefined) ?? [{ when: 'on_success' }];
  const { rules: _old, ...rest } = job;
  // rules go right after stage and needs, where GitLab users look for them.
  const { stage, needs, ...tail } = rest;
  // A fresh object per job: no YAML aliases.
  return { stage, ...(needs === undefined ? {} : { needs }), rules: [{ ...NOT_ON_SCHEDULE }, ...rules], ...tail };
}

/**
 * Mutation testing of the Lambda code and the model (`npm run mutate`, docs/MUTATION.md): scheduled
 * pipelines only (e.g. weekly), too slow for every push. The HTML reports are kept as artifacts,
 * with the incremental files a later run can start from.
 */
function mutateJob(): Job {
  return {
    stage: 'test',
    needs: [],
    rules: [{ ...SCHEDULE_RULE }],
    timeout: '4h',
    script: [NPM_CI, 'npm run mutate'],
    artifacts: {
      when: 'always',
      expire_in: '4 weeks',
      paths: ['reports/mutation/', 'reports/stryker-incremental/'],
    },
  };
}

/** Every stack the synth writes, in order: bootstrap, the environments, then their customers, in config order. */
export function pipelineStacks(config: PlatformConfig): string[] {
  return [BOOTSTRAP_STACK, ...config.environments.map((e) => e.name), ...config.environments.flatMap((e) => e.customers.map((c) => customerStackName(e.name, c.name)))];
}

export const planJobName = (stack: string): string => `plan:${stack}`;
export const deployJobName = (env: string): string => `deploy:${env}`;
export const stackDir = (stack: string): string => `cdktf.out/stacks/${stack}`;

function npmCache(policy: 'pull' | 'pull-push'): Job {
  return { key: { files: ['package-lock.json'] }, paths: ['.npm/'], policy };
}

/** Variables of the jobs that reach AWS through GitLab OIDC. */
function awsVariables(env: EnvironmentConfig, stack: string = env.name): Record<string, string> {
  return {
    STACK_DIR: stackDir(stack),
    AWS_REGION: env.region,
    AWS_WEB_IDENTITY_TOKEN_FILE: WEB_IDENTITY_TOKEN_FILE,
    AWS_ROLE_SESSION_NAME: 'gitlab-$CI_PROJECT_ID-$CI_JOB_ID',
  };
}

/** GitLab's OIDC token for AWS STS (AssumeRoleWithWebIdentity). A fresh object each time: no YAML aliases. */
function idTokens(): Job {
  return { AWS_ID_TOKEN: { aud: 'sts.amazonaws.com' } };
}

function planJob(env: EnvironmentConfig, stack: string = env.name): Job {
  const offline = [
    'if [ -z "${AWS_ROLE_ARN:-}" ]; then',
    `  echo "AWS_ROLE_ARN is not set for environment ${env.name}: offline plan only (no state, mock credentials, providers from the registry); ${deployJobName(stack)} does not run"`,
    `  npm run offline-plan -- --registry --outdir cdktf.out ${stack}`,
    '  exit 0',
    'fi',
  ].join('\n');
  const dir = stackDir(stack);
  return {
    stage: 'plan',
    needs: ['synth'],
    environment: { name: env.name, action: 'prepare' },
    id_tokens: idTokens(),
    variables: { ...awsVariables(env, stack), OFFLINE_TERRAFORM_REQUIRED: '1' },
    script: [
      NPM_CI,
      INSTALL_TERRAFORM,
      offline,
      WRITE_TOKEN,
      'cd "$STACK_DIR"',
      'terraform init -input=false',
      'terraform plan -input=false -lock-timeout=5m -out=plan.tfplan',
      'node --require esbuild-register "$CI_PROJECT_DIR/scripts/plan-report.ts" plan.tfplan > plan.json',
    ],
    artifacts: {
      // The plan file holds attribute values in clear text: only developers may download it.
      access: 'developer',
      expire_in: '1 week',
      paths: [`${dir}/plan.tfplan`, `${dir}/.terraform.lock.hcl`],
      reports: { terraform: `${dir}/plan.json` },
    },
  };
}

function deployJob(env: EnvironmentConfig, after: string | undefined, stack: string = env.name): Job {
  const rule: Job = { if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $AWS_ROLE_ARN' };
  if (env.production) Object.assign(rule, { when: 'manual', allow_failure: false });
  else rule.when = 'on_success';
  return {
    stage: 'deploy',
    needs: ['test', 'synth', planJobName(stack), ...(after ? [deployJobName(after)] : [])],
    rules: [rule],
    environment: { name: env.name },
    resource_group: stack,
    // Never cancel an apply half-way because a newer pipeline started.
    interruptible: false,
    // terraform only: no node_modules, so no npm cache to download.
    cache: [],
    id_tokens: idTokens(),
    variables: awsVariables(env, stack),
    script: [
      INSTALL_TERRAFORM,
      `test -f "$STACK_DIR/plan.tfplan" || { echo "no reviewed plan file $STACK_DIR/plan.tfplan from ${planJobName(stack)}: nothing to apply"; exit 1; }`,
      // A protected AWS_DEPLOY_ROLE_ARN, when set, keeps the write role away from unprotected branches.
      'export AWS_ROLE_ARN="${AWS_DEPLOY_ROLE_ARN:-$AWS_ROLE_ARN}"',
      WRITE_TOKEN,
      'cd "$STACK_DIR"',
      'terraform init -input=false -lockfile=readonly',
      'terraform apply -input=false -lock-timeout=5m plan.tfplan',
    ],
  };
}

const NOT_JOBS = new Set(['workflow', 'stages', 'default', 'variables']);

/** The pipeline as a plain object, keys in the order they are written. */
export function generatePipeline(config: PlatformConfig, options: PipelineOptions = {}): Record<string, unknown> {
  const configPath = options.configPath ?? DEFAULT_CONFIG_PATH;
  const variables: Record<string, string> = {
    CHECKPOINT_DISABLE: '1',
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    TERRAFORM_VERSION,
    npm_config_cache: '$CI_PROJECT_DIR/.npm',
  };
  if (configPath !== DEFAULT_CONFIG_PATH) variables.PLATFORM_CONFIG = configPath;

  const pipeline: Record<string, unknown> = {
    workflow: {
      rules: [
        { if: '$CI_PIPELINE_SOURCE == "merge_request_event"' },
        // A branch with an open merge request runs the merge-request pipeline only.
        { if: '$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS', when: 'never' },
        { if: '$CI_COMMIT_BRANCH' },
      ],
    },
    stages: [...STAGES],
    // Every job pulls the npm cache that the install job fills (keyed on the lockfile).
    default: { image: NODE_IMAGE, interruptible: true, cache: npmCache('pull') },
    variables,
    install: {
      stage: 'install',
      cache: npmCache('pull-push'),
      script: [NPM_CI],
    },
    test: {
      stage: 'test',
      needs: ['install'],
      script: [NPM_CI, 'npm test'],
    },
    synth: {
      stage: 'synth',
      needs: ['install'],
      script: [NPM_CI, 'npm run synth'],
      artifacts: { expire_in: '1 week', paths: ['cdktf.out/'], exclude: ['cdktf.out/**/.terraform/**/*'] },
    },
    [planJobName(BOOTSTRAP_STACK)]: {
      stage: 'plan',
      needs: ['synth'],
      variables: { OFFLINE_TERRAFORM_REQUIRED: '1' },
      script: [
        NPM_CI,
        INSTALL_TERRAFORM,
        'echo "bootstrap keeps its state locally and is applied by hand (docs/RUNBOOK.md, first-time bootstrap): offline plan only"',
        `npm run offline-plan -- --registry --outdir cdktf.out ${BOOTSTRAP_STACK}`,
      ],
    },
  };
  for (const env of config.environments) pipeline[planJobName(env.name)] = planJob(env);
  for (const env of config.environments) for (const c of env.customers) pipeline[planJobName(customerStackName(env.name, c.name))] = planJob(env, customerStackName(env.name, c.name));
  config.environments.forEach((env, i) => {
    pipeline[deployJobName(env.name)] = deployJob(env, config.environments[i - 1]?.name);
  });
  // A customer stack applies after its environment (it reads the environment's remote state).
  config.environments.forEach((env) => {
    for (const c of env.customers) pipeline[deployJobName(customerStackName(env.name, c.name))] = deployJob(env, env.name, customerStackName(env.name, c.name));
  });
  for (const [name, job] of Object.entries(pipeline)) {
    if (!NOT_JOBS.has(name)) pipeline[name] = notOnSchedule(job as Job);
  }
  pipeline.mutate = mutateJob();
  return pipeline;
}

/** The header comment of the generated file. */
export function pipelineHeader(configPath: string = DEFAULT_CONFIG_PATH): string {
  const regenerate = configPath === DEFAULT_CONFIG_PATH ? 'npm run gitlab-ci' : `PLATFORM_CONFIG=${configPath} npm run gitlab-ci`;
  return [
    ` GENERATED from ${configPath} by \`npm run gitlab-ci\` (scripts/lib/gitlab-ci.ts): do not edit by hand.`,
    ` After changing the config (e.g. a new environment), regenerate and commit: ${regenerate}`,
    ' `npm test` fails while this file differs from the generated one (__tests__/gitlab-ci.test.ts).',
    ' CI/CD variables: AWS_ROLE_ARN per GitLab environment (unset = offline plans, no deploys); see',
    ' docs/PIPELINE.md.',
  ].join('\n');
}

/** The generated .gitlab-ci.yml text. */
export function renderPipeline(config: PlatformConfig, options: PipelineOptions = {}): string {
  const doc = new YAML.Document(generatePipeline(config, options));
  doc.commentBefore = pipelineHeader(options.configPath ?? DEFAULT_CONFIG_PATH);
  // Blank line between top-level entries, for reading.
  if (YAML.isMap(doc.contents)) {
    doc.contents.items.forEach((item, i) => {
      if (i > 0 && YAML.isNode(item.key)) item.key.spaceBefore = true;
    });
  }
  return doc.toString({ lineWidth: 0 });
}
