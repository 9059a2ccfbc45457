/**
 * The GitLab pipelines, generated from the platform config.
 *
 * The parent (.gitlab-ci.yml, committed): install, test, synth (which also saves the stack hashes),
 * `changes` (compares the hashes with the target branch's synth and writes the child pipeline) and
 * `stacks` (runs the child). `npm run gitlab-ci` writes it; __tests__/gitlab-ci.test.ts fails when
 * the committed file is not what this module generates from the committed config.
 *
 * The child (generated in the pipeline, `npm run gitlab-ci -- --child`): one plan job per changed
 * stack (a stack whose environment changed counts as changed), and on the default branch one deploy
 * job each: environments before their customers, production behind a manual action.
 *
 * Pure: takes the validated config (and hashes) and returns pipelines; reads no files or environment.
 */
import YAML from 'yaml';
import { EnvironmentConfig, PlatformConfig } from '../../stacks/model/config/validate';
import { BOOTSTRAP_STACK } from '../../stacks/platform';
import { customerStackName } from '../../stacks/model/naming';
import { StackHashes } from './stack-hashes';

/** Terraform version of every job (also the default of scripts/ci/install-terraform.sh). */
export const TERRAFORM_VERSION = '1.11.4';
/** The one image of every job. */
export const NODE_IMAGE = 'node:20-bookworm';
export const DEFAULT_CONFIG_PATH = 'config/platform.yaml';
export const PIPELINE_FILE = '.gitlab-ci.yml';
export const STAGES = ['install', 'test', 'synth', 'changes', 'stacks'] as const;
/** Stages of the child pipeline. */
export const CHILD_STAGES = ['plan', 'deploy'] as const;
/** The child pipeline file the `changes` job writes (an artifact the `stacks` trigger runs). */
export const CHILD_PIPELINE_FILE = 'child-pipeline.yml';
/** The synth job's hashes of every stack (artifact, next to the stacks). */
export const STACK_HASHES_FILE = 'cdktf.out/stack-hashes.json';
/** The target branch's hashes, as the `changes` job fetched them. */
export const BASE_HASHES_FILE = 'base-stack-hashes.json';
/** Set to 1 on a pipeline to plan every stack (ignores the comparison). */
export const PLAN_ALL_VARIABLE = 'PLAN_ALL_STACKS';
/** Terraform errors that mean the environment's state (or a new output of it) does not exist yet. */
export const WAITING_FOR_ENVIRONMENT = 'No stored state was found|Unable to find remote state|Unsupported attribute';
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

/** Scheduled pipelines (the weekly mutation run): only the mutate job, never a synth, plan or deploy. */
export const SCHEDULE_RULE = { if: '$CI_PIPELINE_SOURCE == "schedule"' } as const;
const NOT_ON_SCHEDULE: Job = { ...SCHEDULE_RULE, when: 'never' };
const NOT_JOBS = new Set(['workflow', 'stages', 'default', 'variables']);

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
 * with the incremental files a later run can start from. Without the TypeScript checker
 * (MUTATE_CHECK): on 2 cores it makes a run about 8 times slower, and a run from scratch would not
 * fit the timeout (docs/MUTATION.md).
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

/** Artifacts of the parent pipeline's synth job (cdktf.out/), for a child pipeline job. */
function parentSynth(): Job {
  return { pipeline: '$PARENT_PIPELINE_ID', job: 'synth' };
}

/** How a customer plan job relates to its environment. */
interface PlanContext {
  /** The customer's environment is new in this change: its state does not exist yet (merge requests wait). */
  readonly environmentIsNew?: boolean;
  /** The environment is deployed in this pipeline first (default branch): plan after that deploy. */
  readonly afterEnvironmentDeploy?: boolean;
}

function planJob(env: EnvironmentConfig, stack: string = env.name, ctx: PlanContext = {}): Job {
  const isCustomer = stack !== env.name;
  const offline = [
    'if [ -z "${AWS_ROLE_ARN:-}" ]; then',
    `  echo "AWS_ROLE_ARN is not set for environment ${env.name}: offline plan only (no state, mock credentials, providers from the registry); ${deployJobName(stack)} does not run"`,
    `  npm run offline-plan -- --registry --outdir cdktf.out ${stack}`,
    '  exit 0',
    'fi',
  ].join('\n');
  const dir = stackDir(stack);
  const waits = `${stack} waits for ${env.name}`;
  // A merge request that adds an environment and its customers: the environment's state does not exist until it is deployed.
  const newEnvironment = [
    'if [ "${CI_COMMIT_BRANCH:-}" != "$CI_DEFAULT_BRANCH" ] || [ -z "${AWS_ROLE_ARN:-}" ]; then',
    `  echo "${waits}: the environment is new in this change and has no state yet; ${stack} is planned after deploy:${env.name} on the default branch"`,
    '  exit 0',
    'fi',
  ].join('\n');
  const plan = 'terraform plan -input=false -lock-timeout=5m -out=plan.tfplan';
  // A customer reads its environment's remote state: missing state (or a missing new output) means "wait", not "fail".
  const customerPlan = [
    `${plan} 2> plan.err || {`,
    '  cat plan.err >&2',
    `  if grep -qE '${WAITING_FOR_ENVIRONMENT}' plan.err; then echo "${waits}: its state (or a new output of it) does not exist yet; plan again after deploy:${env.name}"; exit 0; fi`,
    '  exit 1',
    '}',
  ].join('\n');
  const needs: unknown[] = [parentSynth()];
  if (ctx.afterEnvironmentDeploy) needs.push({ job: deployJobName(env.name), optional: true });
  return {
    stage: 'plan',
    needs,
    environment: { name: env.name, action: 'prepare' },
    id_tokens: idTokens(),
    variables: { ...awsVariables(env, stack), OFFLINE_TERRAFORM_REQUIRED: '1' },
    script: [
      ...(ctx.environmentIsNew ? [newEnvironment] : []),
      NPM_CI,
      INSTALL_TERRAFORM,
      offline,
      WRITE_TOKEN,
      'cd "$STACK_DIR"',
      'terraform init -input=false',
      isCustomer ? customerPlan : plan,
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
    needs: [parentSynth(), planJobName(stack), ...(after ? [deployJobName(after)] : [])],
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

/**
 * The parent pipeline as a plain object, keys in the order they are written. It names no stack: the
 * stacks come from the synth, so a new environment or customer needs no change to this file.
 */
export function generatePipeline(_config: PlatformConfig, options: PipelineOptions = {}): Record<string, unknown> {
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
      script: [NPM_CI, 'npm run synth', `npm run -s stack-hashes -- cdktf.out > ${STACK_HASHES_FILE}`],
      artifacts: { expire_in: '1 week', paths: ['cdktf.out/'], exclude: ['cdktf.out/**/.terraform/**/*'] },
    },
    changes: {
      stage: 'changes',
      needs: ['synth'],
      script: [
        NPM_CI,
        // The target branch's synth (merge requests), else the default branch's latest successful one.
        'BASE_REF="${CI_MERGE_REQUEST_TARGET_BRANCH_NAME:-$CI_DEFAULT_BRANCH}"',
        [
          `if [ "\${${PLAN_ALL_VARIABLE}:-}" != "1" ] && curl -fsS --header "JOB-TOKEN: $CI_JOB_TOKEN" -o ${BASE_HASHES_FILE} "$CI_API_V4_URL/projects/$CI_PROJECT_ID/jobs/artifacts/$BASE_REF/raw/${STACK_HASHES_FILE}?job=synth"; then`,
          `  BASE="--base ${BASE_HASHES_FILE}"`,
          'else',
          `  echo "no stack hashes of $BASE_REF (or ${PLAN_ALL_VARIABLE}=1): every stack counts as changed"`,
          '  BASE=""',
          'fi',
        ].join('\n'),
        `npm run -s gitlab-ci -- --child --head ${STACK_HASHES_FILE} $BASE --out ${CHILD_PIPELINE_FILE}`,
      ],
      artifacts: { expire_in: '1 week', paths: [CHILD_PIPELINE_FILE] },
    },
    stacks: {
      stage: 'stacks',
      needs: ['changes', 'test'],
      // A trigger job takes no image or cache: nothing from `default`.
      inherit: { default: false },
      variables: { PARENT_PIPELINE_ID: '$CI_PIPELINE_ID' },
      trigger: { include: [{ artifact: CHILD_PIPELINE_FILE, job: 'changes' }], strategy: 'depend' },
    },
  };
  for (const [name, job] of Object.entries(pipeline)) {
    if (!NOT_JOBS.has(name)) pipeline[name] = notOnSchedule(job as Job);
  }
  pipeline.mutate = mutateJob();
  return pipeline;
}

/** Which stacks a change touches, and why. */
export interface StackChanges {
  /** Stacks to plan (and deploy on the default branch), in pipeline order. */
  readonly changed: readonly string[];
  /** Why each changed stack is in. */
  readonly reasons: Readonly<Record<string, string>>;
  /** Environments new in this change (no hashes on the target branch): their customers wait for them. */
  readonly newEnvironments: readonly string[];
  /** Stacks the target branch synthesized but this change does not (destroyed by hand: docs/RUNBOOK.md). */
  readonly removed: readonly string[];
  /** Whether a baseline was compared with (false: every stack counts as changed). */
  readonly compared: boolean;
}

/**
 * The stacks whose synthesized JSON differs from the baseline's (or is new), plus every customer of
 * a changed environment. Without a baseline every stack counts as changed.
 */
export function changedStacks(config: PlatformConfig, base: StackHashes | undefined, head: StackHashes): StackChanges {
  const stacks = pipelineStacks(config);
  const reasons: Record<string, string> = {};
  for (const s of stacks) {
    if (base === undefined) reasons[s] = 'no baseline to compare with';
    else if (base[s] === undefined) reasons[s] = 'new stack';
    else if (head[s] !== base[s]) reasons[s] = 'synthesized JSON changed';
  }
  for (const env of config.environments) {
    if (reasons[env.name] === undefined) continue;
    for (const c of env.customers) {
      const s = customerStackName(env.name, c.name);
      reasons[s] ??= `environment ${env.name} changed`;
    }
  }
  return {
    changed: stacks.filter((s) => reasons[s] !== undefined),
    reasons,
    newEnvironments: base === undefined ? [] : config.environments.filter((e) => base[e.name] === undefined).map((e) => e.name),
    removed: base === undefined ? [] : Object.keys(base).filter((s) => !stacks.includes(s)).sort(),
    compared: base !== undefined,
  };
}

/** The child pipeline: plan (and, on the default branch, deploy) jobs of the changed stacks only. */
export function generateChildPipeline(config: PlatformConfig, changes: StackChanges): Record<string, unknown> {
  const changed = new Set(changes.changed);
  const child: Record<string, unknown> = {
    stages: [...CHILD_STAGES],
    default: { image: NODE_IMAGE, interruptible: true, cache: npmCache('pull') },
  };
  if (changed.size === 0) {
    // GitLab refuses a pipeline without jobs: one job says why there is nothing to do.
    child['no-changes'] = {
      stage: 'plan',
      cache: [],
      script: [`echo "no stack's synthesized JSON changed: nothing to plan or deploy"`, ...changes.removed.map((s) => `echo "stack ${s} is no longer synthesized: destroy it by hand (docs/RUNBOOK.md)"`)],
    };
    return child;
  }
  if (changed.has(BOOTSTRAP_STACK)) {
    child[planJobName(BOOTSTRAP_STACK)] = {
      stage: 'plan',
      needs: [parentSynth()],
      variables: { OFFLINE_TERRAFORM_REQUIRED: '1' },
      script: [
        NPM_CI,
        INSTALL_TERRAFORM,
        'echo "bootstrap keeps its state locally and is applied by hand (docs/RUNBOOK.md, first-time bootstrap): offline plan only"',
        `npm run offline-plan -- --registry --outdir cdktf.out ${BOOTSTRAP_STACK}`,
      ],
    };
  }
  for (const env of config.environments) if (changed.has(env.name)) child[planJobName(env.name)] = planJob(env);
  for (const env of config.environments) {
    for (const c of env.customers) {
      const stack = customerStackName(env.name, c.name);
      if (!changed.has(stack)) continue;
      child[planJobName(stack)] = planJob(env, stack, { environmentIsNew: changes.newEnvironments.includes(env.name), afterEnvironmentDeploy: changed.has(env.name) });
    }
  }
  // Environments deploy in config order (each after the previous changed one), then their customers.
  let previous: string | undefined;
  for (const env of config.environments) {
    if (!changed.has(env.name)) continue;
    child[deployJobName(env.name)] = deployJob(env, previous);
    previous = env.name;
  }
  for (const env of config.environments) {
    for (const c of env.customers) {
      const stack = customerStackName(env.name, c.name);
      if (changed.has(stack)) child[deployJobName(stack)] = deployJob(env, changed.has(env.name) ? env.name : undefined, stack);
    }
  }
  return child;
}

/** The child pipeline as YAML, with a comment listing what changed and why. */
export function renderChildPipeline(config: PlatformConfig, changes: StackChanges): string {
  const doc = new YAML.Document(generateChildPipeline(config, changes));
  const lines = [
    ' GENERATED by the `changes` job (npm run gitlab-ci -- --child): plan and deploy jobs of the changed stacks only.',
    changes.compared ? ` ${changes.changed.length} changed stack(s):` : ' no baseline hashes: every stack counts as changed',
    ...(changes.compared ? changes.changed.map((s) => `   ${s}: ${changes.reasons[s]}`) : []),
    ...changes.removed.map((s) => ` removed: ${s} (destroy by hand)`),
  ];
  doc.commentBefore = lines.join('\n');
  return doc.toString({ lineWidth: 0 });
}

/** The header comment of the generated file. */
export function pipelineHeader(configPath: string = DEFAULT_CONFIG_PATH): string {
  const regenerate = configPath === DEFAULT_CONFIG_PATH ? 'npm run gitlab-ci' : `PLATFORM_CONFIG=${configPath} npm run gitlab-ci`;
  return [
    ` GENERATED from ${configPath} by \`npm run gitlab-ci\` (scripts/lib/gitlab-ci.ts): do not edit by hand.`,
    ` After changing the config (e.g. a new environment), regenerate and commit: ${regenerate}`,
    ' `npm test` fails while this file differs from the generated one (__tests__/gitlab-ci.test.ts).',
    ' Plan and deploy jobs run in a child pipeline that the `changes` job generates for the stacks whose',
    ' synthesized JSON changed. CI/CD variables: AWS_ROLE_ARN per GitLab environment (unset = offline',
    ` plans, no deploys), ${PLAN_ALL_VARIABLE}=1 to plan every stack; see docs/PIPELINE.md.`,
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
