/**
 * The generated GitLab pipelines. The parent (.gitlab-ci.yml) synthesizes, hashes the stacks and runs
 * a child pipeline that the `changes` job generates for the stacks whose synthesized JSON changed
 * against the target branch. Child jobs: one plan per changed stack, deploys that apply exactly the
 * reviewed plan (environments before their customers, production behind a manual action, only on the
 * default branch and only with AWS credentials), offline plans without them. `pipeline` below is the
 * child with every stack changed (no baseline). The committed file must be exactly what the committed
 * config generates.
 *
 * Job scripts are run here under bash (as the GitLab runner does) with stand-ins for npm, node,
 * terraform and the terraform installer on PATH, so the branches of the scripts are checked too.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'cdktf';
import YAML from 'yaml';
import { loadConfigFile } from '../stacks/model/config/validate';
import { buildPlatform } from '../stacks/platform';
import {
  DEFAULT_CONFIG_PATH,
  NODE_IMAGE,
  PIPELINE_FILE,
  TERRAFORM_VERSION,
  changedStacks,
  deployJobName,
  generateChildPipeline,
  generatePipeline,
  renderChildPipeline,
  pipelineStacks,
  planJobName,
  renderPipeline,
} from '../scripts/lib/gitlab-ci';
import { exampleConfig } from './support/config';
import { PlatformConfig } from '../stacks/model/config/validate';
import { StackHashes, hashStacks } from '../scripts/lib/stack-hashes';

const ROOT = path.join(__dirname, '..');
const committedText = fs.readFileSync(path.join(ROOT, PIPELINE_FILE), 'utf8');
type Job = { [k: string]: any };
const parent = YAML.parse(committedText) as Record<string, any>;
const config = exampleConfig();
const envs = config.environments;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gitlab-ci-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let synths = 0;
/** Synthesizes a config like `cdktf synth` and returns the folder. */
function synthTo(cfg: PlatformConfig): string {
  const outdir = path.join(tmp, `synth-${synths++}`);
  const app = new App({ outdir });
  buildPlatform(app, cfg);
  app.synth();
  return outdir;
}
const exampleOut = synthTo(config);
/** The example's stack hashes, as the synth job writes them. */
const exampleHashes: StackHashes = hashStacks(exampleOut);

/** The stacks `cdktf synth` writes for the example config. */
function synthesizedStacks(): string[] {
  return fs.readdirSync(path.join(exampleOut, 'stacks')).filter((d) => fs.existsSync(path.join(exampleOut, 'stacks', d, 'cdk.tf.json')));
}

/** The child pipeline as the `changes` job writes it (rendered YAML, parsed back). */
const childOf = (cfg: PlatformConfig, base: StackHashes | undefined, head: StackHashes) => YAML.parse(renderChildPipeline(cfg, changedStacks(cfg, base, head))) as Record<string, any>;
/** The child pipeline with every stack changed (no baseline): every plan and deploy job. */
const pipeline = childOf(config, undefined, exampleHashes);
const job = (name: string): Job => {
  const j = pipeline[name] ?? parent[name];
  if (!j) throw new Error(`no job ${name} in ${PIPELINE_FILE} or the all-stacks child pipeline`);
  return j as Job;
};

// ---------------------------------------------------------------------------
// A small evaluator of the GitLab rule expressions this pipeline uses:
// $VAR, "string", ==, !=, && and || (no parentheses, no regex).
// ---------------------------------------------------------------------------

type Vars = Record<string, string | undefined>;

function evalExpr(expr: string, vars: Vars): boolean {
  const value = (t: string): string | undefined => {
    const s = t.trim();
    if (s.startsWith('$')) return vars[s.slice(1)];
    const m = /^"(.*)"$/.exec(s);
    if (m) return m[1];
    throw new Error(`unsupported operand ${s} in ${expr}`);
  };
  const term = (t: string): boolean => {
    if (/=~|!~|\(|\)/.test(t)) throw new Error(`unsupported expression ${expr}`);
    const eq = t.split('==');
    if (eq.length === 2) return value(eq[0]!) === value(eq[1]!);
    const ne = t.split('!=');
    if (ne.length === 2) return value(ne[0]!) !== value(ne[1]!);
    const v = value(t);
    return v !== undefined && v !== '';
  };
  return expr.split('||').some((alt) => alt.split('&&').every(term));
}

interface Included {
  when: string;
  allowFailure: boolean | undefined;
}

/** GitLab's rules: the first matching rule decides; no match excludes the job; no rules = on_success. */
function evalRules(rules: Job[] | undefined, vars: Vars): Included | undefined {
  if (!rules) return { when: 'on_success', allowFailure: undefined };
  for (const r of rules) {
    if (r.if === undefined || evalExpr(r.if, vars)) {
      if (r.when === 'never') return undefined;
      return { when: r.when ?? 'on_success', allowFailure: r.allow_failure };
    }
  }
  return undefined;
}

const JOB_KEYS_THAT_ARE_NOT_JOBS = new Set(['workflow', 'stages', 'default', 'variables', 'include']);
const PARENT_SYNTH = { pipeline: '$PARENT_PIPELINE_ID', job: 'synth' };

interface Scenario {
  /** Pipeline variables (predefined ones). */
  vars: Vars;
  /** AWS_ROLE_ARN scoped to each GitLab environment (missing = not set). */
  roleByEnv: Record<string, string>;
}

/** The jobs a pipeline would contain, with how each runs; undefined when workflow:rules skip the pipeline. */
function jobsIn(p: Record<string, any>, s: Scenario): Map<string, Included> | undefined {
  if (!evalRules(p.workflow?.rules, s.vars)) return undefined;
  const out = new Map<string, Included>();
  for (const [name, j] of Object.entries(p)) {
    if (JOB_KEYS_THAT_ARE_NOT_JOBS.has(name) || name.startsWith('.')) continue;
    const envName: string | undefined = j.environment?.name;
    const vars = { ...s.vars, ...(envName && s.roleByEnv[envName] ? { AWS_ROLE_ARN: s.roleByEnv[envName] } : {}) };
    const inc = evalRules(j.rules, vars);
    if (inc) out.set(name, inc);
  }
  return out;
}

/** Jobs whose `needs` name a job that is not in the pipeline (GitLab refuses to create such a pipeline). */
function danglingNeeds(p: Record<string, any>, jobs: Map<string, Included>): string[] {
  const out: string[] = [];
  for (const name of jobs.keys()) {
    for (const n of (p[name].needs ?? []) as Array<string | { job: string; optional?: boolean }>) {
      const need = typeof n === 'string' ? { job: n, optional: false } : n;
      if ('pipeline' in need) continue; // the parent pipeline's synth artifacts
      if (!jobs.has(need.job) && !need.optional) out.push(`${name} -> ${need.job}`);
    }
  }
  return out;
}

const allRoles = Object.fromEntries(envs.map((e) => [e.name, `arn:aws:iam::${e.account}:role/gitlab-${e.name}`]));
const MAIN: Vars = { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_BRANCH: 'main', CI_DEFAULT_BRANCH: 'main' };
const MERGE_REQUEST: Vars = { CI_PIPELINE_SOURCE: 'merge_request_event', CI_DEFAULT_BRANCH: 'main', CI_MERGE_REQUEST_IID: '7' };
const FEATURE_PUSH: Vars = { CI_PIPELINE_SOURCE: 'push', CI_COMMIT_BRANCH: 'feature/x', CI_DEFAULT_BRANCH: 'main' };

// ---------------------------------------------------------------------------
// Running job scripts with stand-ins
// ---------------------------------------------------------------------------

interface ScriptRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Every stand-in call: "<tool> <args>" (terraform calls also record the directory they ran in). */
  calls: string[];
  projectDir: string;
}

/** Runs a job's script like the GitLab runner (one bash script, -eo pipefail) in a fake checkout. */
function runJobScript(name: string, vars: Vars, prepare?: (projectDir: string) => void): ScriptRun {
  const j = job(name);
  const projectDir = fs.mkdtempSync(path.join(tmp, 'job-'));
  const bin = path.join(projectDir, '.fake-bin');
  fs.mkdirSync(bin);
  const log = path.join(projectDir, '.calls.log');
  const stub = (tool: string, body = '') =>
    fs.writeFileSync(path.join(bin, tool), `#!/bin/bash\necho "${tool} $*" >> ${JSON.stringify(log)}\n${body}\n`, { mode: 0o755 });
  stub('npm');
  stub('node', 'echo \'{"create":1,"update":0,"delete":0}\'');
  stub('terraform', `echo "  (in \${PWD#${projectDir}/}, AWS_ROLE_ARN=$AWS_ROLE_ARN)" >> ${JSON.stringify(log)}; [ "$1" = plan ] && : > plan.tfplan; exit 0`);
  fs.mkdirSync(path.join(projectDir, 'scripts', 'ci'), { recursive: true });
  fs.writeFileSync(path.join(projectDir, 'scripts', 'ci', 'install-terraform.sh'), `echo "install-terraform $*" >> ${JSON.stringify(log)}\n`);
  for (const e of pipelineStacks(config)) fs.mkdirSync(path.join(projectDir, 'cdktf.out', 'stacks', e), { recursive: true });
  prepare?.(projectDir);

  const jobVars: Vars = { ...parent.variables, ...j.variables };
  const expand = (v: string) => v.replace(/\$(\w+)/g, (_m, k: string) => (k === 'CI_PROJECT_DIR' ? projectDir : (vars[k] ?? jobVars[k] ?? '')));
  const env: NodeJS.ProcessEnv = { PATH: `${bin}:${process.env.PATH}`, HOME: projectDir, CI_PROJECT_DIR: projectDir };
  for (const [k, v] of Object.entries(jobVars)) if (v !== undefined) env[k] = expand(String(v));
  for (const [k, v] of Object.entries(vars)) if (v !== undefined) env[k] = v;
  const script = ['set -eo pipefail', ...(j.script as string[])].join('\n');
  const r = spawnSync('bash', ['-c', script], { cwd: projectDir, env, encoding: 'utf8', timeout: 30_000 });
  const calls = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls, projectDir };
}

// ---------------------------------------------------------------------------

describe('.gitlab-ci.yml is generated from the config', () => {
  test('the committed file is exactly what the committed config generates (run `npm run gitlab-ci` after a config change)', () => {
    const configPath: string = pipeline.variables?.PLATFORM_CONFIG ?? DEFAULT_CONFIG_PATH;
    const generated = renderPipeline(loadConfigFile(path.join(ROOT, configPath)), { configPath });
    expect(committedText).toBe(generated);
  });

  test('starts with a header saying it is generated and how to regenerate it', () => {
    const head = committedText.split('\n').slice(0, 3).join('\n');
    expect(head).toMatch(/^# GENERATED from config\/platform\.yaml by `npm run gitlab-ci`/);
    expect(head).toContain('do not edit by hand');
    expect(head).toContain('regenerate and commit: npm run gitlab-ci');
  });

  test('stages, one image for everything, pinned terraform', () => {
    expect(parent.stages).toEqual(['install', 'test', 'synth', 'changes', 'stacks']);
    expect(pipeline.stages).toEqual(['plan', 'deploy']);
    for (const p of [parent, pipeline]) {
      expect(p.default.image).toBe(NODE_IMAGE);
      for (const [name, j] of Object.entries(p)) {
        if (!JOB_KEYS_THAT_ARE_NOT_JOBS.has(name)) expect([name, (j as Job).image]).toEqual([name, undefined]);
      }
    }
    expect(NODE_IMAGE).toBe('node:20-bookworm');
    expect(parent.variables.TERRAFORM_VERSION).toBe(TERRAFORM_VERSION);
    expect(parent.variables.CHECKPOINT_DISABLE).toBe('1');
  });

  test('install: cached `npm ci`, cache keyed on package-lock.json in .npm/; test runs `npm test`; synth keeps cdktf.out/ without .terraform', () => {
    const cache = job('install').cache;
    expect(cache).toEqual({ key: { files: ['package-lock.json'] }, paths: ['.npm/'], policy: 'pull-push' });
    expect(job('install').script.join('\n')).toMatch(/^npm ci\b/);
    expect(parent.variables.npm_config_cache).toBe('$CI_PROJECT_DIR/.npm');
    expect(parent.default.cache).toEqual({ ...cache, policy: 'pull' });
    expect(pipeline.default.cache).toEqual({ ...cache, policy: 'pull' });
    expect(job('test').script).toContain('npm test');
    expect(job('synth').script).toEqual(['npm ci --prefer-offline --no-audit --no-fund', 'npm run synth', 'npm run -s stack-hashes -- cdktf.out > cdktf.out/stack-hashes.json']);
    expect(job('synth').artifacts.paths).toEqual(['cdktf.out/']);
    expect(job('synth').artifacts.exclude).toEqual(['cdktf.out/**/.terraform/**/*']);
  });
});

describe('plan jobs', () => {
  test('one plan job per synthesized stack, and no other', () => {
    const stacks = synthesizedStacks().sort();
    expect(pipelineStacks(config).slice().sort()).toEqual(stacks);
    const planJobs = Object.keys(pipeline).filter((k) => k.startsWith('plan:'));
    expect(planJobs.sort()).toEqual(stacks.map(planJobName).sort());
    for (const s of stacks) expect(job(planJobName(s)).stage).toBe('plan');
  });

  test.each(envs.map((e) => e.name))('plan:%s: init + plan -out=plan.tfplan in its stack folder, OIDC, environment prepare, report and plan file kept', (env) => {
    const j = job(planJobName(env));
    expect(j.needs).toEqual([PARENT_SYNTH]);
    expect(j.environment).toEqual({ name: env, action: 'prepare' });
    expect(j.id_tokens).toEqual({ AWS_ID_TOKEN: { aud: 'sts.amazonaws.com' } });
    expect(j.variables).toMatchObject({
      STACK_DIR: `cdktf.out/stacks/${env}`,
      AWS_WEB_IDENTITY_TOKEN_FILE: expect.stringMatching(/^\$CI_PROJECT_DIR\//),
      AWS_REGION: envs.find((e) => e.name === env)!.region,
    });
    const script = (j.script as string[]).join('\n');
    expect(script).toContain('bash scripts/ci/install-terraform.sh "$TERRAFORM_VERSION"');
    expect(script).toContain('cd "$STACK_DIR"\nterraform init -input=false\nterraform plan -input=false -lock-timeout=5m -out=plan.tfplan');
    expect(script).toContain('scripts/plan-report.ts" plan.tfplan > plan.json');
    expect(j.artifacts.paths).toEqual([`cdktf.out/stacks/${env}/plan.tfplan`, `cdktf.out/stacks/${env}/.terraform.lock.hcl`]);
    expect(j.artifacts.reports).toEqual({ terraform: `cdktf.out/stacks/${env}/plan.json` });
    expect(j.artifacts.access).toBe('developer');
  });

  test('plan:bootstrap only runs the offline plan (local state, applied by hand), with no AWS identity', () => {
    const j = job('plan:bootstrap');
    expect(j.environment).toBeUndefined();
    expect(j.id_tokens).toBeUndefined();
    const script = (j.script as string[]).join('\n');
    expect(script).toContain('npm run offline-plan -- --registry --outdir cdktf.out bootstrap');
    expect(script).not.toMatch(/terraform (init|plan|apply)/);
    expect(j.variables.OFFLINE_TERRAFORM_REQUIRED).toBe('1');
    expect(Object.keys(pipeline).filter((k) => k === deployJobName('bootstrap'))).toEqual([]);
  });

  test('without AWS_ROLE_ARN a plan job runs only the registry-mode offline plan, and stops before terraform', () => {
    const r = runJobScript('plan:dev', { CI_JOB_ID: '1' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('AWS_ROLE_ARN is not set for environment dev: offline plan only');
    expect(r.calls).toEqual([
      'npm ci --prefer-offline --no-audit --no-fund',
      'install-terraform 1.11.4 /usr/local/bin',
      'npm run offline-plan -- --registry --outdir cdktf.out dev',
    ]);
    expect(fs.existsSync(path.join(r.projectDir, '.gitlab-oidc-token'))).toBe(false);
  });

  test('with AWS_ROLE_ARN a plan job writes the OIDC token file, plans against the real backend and writes the report', () => {
    const r = runJobScript('plan:staging', { AWS_ROLE_ARN: 'arn:aws:iam::111111111111:role/plan', AWS_ID_TOKEN: 'jwt-token', CI_JOB_ID: '2' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([
      'npm ci --prefer-offline --no-audit --no-fund',
      'install-terraform 1.11.4 /usr/local/bin',
      'terraform init -input=false',
      '  (in cdktf.out/stacks/staging, AWS_ROLE_ARN=arn:aws:iam::111111111111:role/plan)',
      'terraform plan -input=false -lock-timeout=5m -out=plan.tfplan',
      '  (in cdktf.out/stacks/staging, AWS_ROLE_ARN=arn:aws:iam::111111111111:role/plan)',
      `node --require esbuild-register ${r.projectDir}/scripts/plan-report.ts plan.tfplan`,
    ]);
    expect(fs.readFileSync(path.join(r.projectDir, '.gitlab-oidc-token'), 'utf8')).toBe('jwt-token');
    expect(fs.readFileSync(path.join(r.projectDir, 'cdktf.out/stacks/staging/plan.json'), 'utf8')).toBe('{"create":1,"update":0,"delete":0}\n');
    expect(fs.existsSync(path.join(r.projectDir, 'cdktf.out/stacks/staging/plan.tfplan'))).toBe(true);
  });
});

/** Deploy jobs of environments (customer stacks are <env>-<customer>; environment names have no "-"). */
const envDeploys = (keys: string[]) => keys.filter((k) => k.startsWith('deploy:') && !k.slice('deploy:'.length).includes('-'));

describe('deploy jobs', () => {
  test('one per customer stack, after its own environment and its own plan', () => {
    for (const e of envs) {
      for (const c of e.customers) {
        const stack = `${e.name}-${c.name}`;
        expect(job(deployJobName(stack))).toMatchObject({ stage: 'deploy', needs: [PARENT_SYNTH, planJobName(stack), deployJobName(e.name)], resource_group: stack });
        expect(job(planJobName(stack)).variables).toMatchObject({ STACK_DIR: expect.stringContaining(`cdktf.out/stacks/${stack}`) });
      }
    }
  });

  test('one per environment, in config order: each needs the previous one, its own plan and the synth (the child runs after the tests)', () => {
    const deployJobs = envDeploys(Object.keys(pipeline));
    expect(deployJobs).toEqual(envs.map((e) => deployJobName(e.name)));
    envs.forEach((e, i) => {
      const j = job(deployJobName(e.name));
      expect(j.stage).toBe('deploy');
      const prev = envs[i - 1];
      expect(j.needs).toEqual([PARENT_SYNTH, planJobName(e.name), ...(prev ? [deployJobName(prev.name)] : [])]);
    });
    expect(job('deploy:staging').needs).toContain('deploy:dev');
    expect(job('deploy:prod').needs).toContain('deploy:staging');
  });

  test.each(envs.map((e) => e.name))('deploy:%s applies exactly the saved plan with the saved lock file, never a fresh plan', (env) => {
    const j = job(deployJobName(env));
    const script = (j.script as string[]).join('\n');
    expect(script).toContain('terraform init -input=false -lockfile=readonly\nterraform apply -input=false -lock-timeout=5m plan.tfplan');
    expect(script).not.toMatch(/terraform plan|-auto-approve|-refresh-only|-replace/);
    expect(script.match(/terraform apply/g)).toHaveLength(1);
    expect(j.resource_group).toBe(env);
    expect(j.environment).toEqual({ name: env });
    expect(j.interruptible).toBe(false);
    expect(j.id_tokens).toEqual({ AWS_ID_TOKEN: { aud: 'sts.amazonaws.com' } });
    // The plan job's artifacts (plan file, lock file) are what the deploy downloads.
    expect(j.needs).toContain(planJobName(env));
  });

  test('production environments wait for a manual action that blocks the pipeline; others deploy automatically', () => {
    expect(envs.filter((e) => e.production).map((e) => e.name)).toEqual(['prod']);
    for (const e of envs) {
      const rules = job(deployJobName(e.name)).rules as Job[];
      expect(rules).toHaveLength(1);
      if (e.production) expect(rules[0]).toMatchObject({ when: 'manual', allow_failure: false });
      else expect(rules[0]!.when).toBe('on_success');
    }
  });

  test('deploys exist only in default-branch pipelines with AWS_ROLE_ARN; merge requests and other branches only plan', () => {
    const mainJobs = jobsIn(pipeline, { vars: MAIN, roleByEnv: allRoles })!;
    expect(envDeploys([...mainJobs.keys()])).toEqual(['deploy:dev', 'deploy:staging', 'deploy:prod']);
    expect(mainJobs.get('deploy:prod-shop')).toEqual({ when: 'manual', allowFailure: false });
    expect(mainJobs.get('deploy:dev-shop')).toEqual({ when: 'on_success', allowFailure: undefined });
    expect(mainJobs.get('deploy:prod')).toEqual({ when: 'manual', allowFailure: false });
    expect(mainJobs.get('deploy:dev')).toEqual({ when: 'on_success', allowFailure: undefined });
    expect(danglingNeeds(pipeline, mainJobs)).toEqual([]);

    for (const vars of [MERGE_REQUEST, FEATURE_PUSH]) {
      const jobs = jobsIn(pipeline, { vars, roleByEnv: allRoles })!;
      expect([...jobs.keys()]).toEqual(['plan:bootstrap', 'plan:dev', 'plan:staging', 'plan:prod', 'plan:dev-shop', 'plan:dev-blog', 'plan:dev-wiki', 'plan:staging-shop', 'plan:prod-shop', 'plan:prod-wiki']);
      expect(danglingNeeds(pipeline, jobs)).toEqual([]);
    }
    // A branch with an open merge request runs only the merge-request pipeline (no duplicate).
    expect(jobsIn(parent, { vars: { ...FEATURE_PUSH, CI_OPEN_MERGE_REQUESTS: 'group/project!7' }, roleByEnv: allRoles })).toBeUndefined();
    expect([...jobsIn(parent, { vars: MERGE_REQUEST, roleByEnv: allRoles })!.keys()]).toEqual(['install', 'test', 'synth', 'changes', 'stacks']);
  });

  test('offline mode: without AWS_ROLE_ARN the default branch plans offline and deploys nothing', () => {
    const jobs = jobsIn(pipeline, { vars: MAIN, roleByEnv: {} })!;
    expect([...jobs.keys()].filter((k) => k.startsWith('deploy:'))).toEqual([]);
    expect([...jobs.keys()].filter((k) => k.startsWith('plan:'))).toEqual(['plan:bootstrap', 'plan:dev', 'plan:staging', 'plan:prod', 'plan:dev-shop', 'plan:dev-blog', 'plan:dev-wiki', 'plan:staging-shop', 'plan:prod-shop', 'plan:prod-wiki']);
    expect(danglingNeeds(pipeline, jobs)).toEqual([]);
    // Roles for a prefix of the order deploy that prefix.
    const devOnly = jobsIn(pipeline, { vars: MAIN, roleByEnv: { dev: allRoles.dev! } })!;
    expect([...devOnly.keys()].filter((k) => k.startsWith('deploy:'))).toEqual(['deploy:dev', 'deploy:dev-shop', 'deploy:dev-blog', 'deploy:dev-wiki']);
    expect(danglingNeeds(pipeline, devOnly)).toEqual([]);
    // A hole in the order cannot be skipped: GitLab refuses the pipeline (prod needs staging).
    const hole = jobsIn(pipeline, { vars: MAIN, roleByEnv: { dev: allRoles.dev!, prod: allRoles.prod! } })!;
    expect(danglingNeeds(pipeline, hole)).toEqual(['deploy:prod -> deploy:staging']);
  });

  test('a deploy job applies the saved plan with the deploy role when one is set, and fails without a plan file', () => {
    const withPlan = (dir: string) => fs.writeFileSync(path.join(dir, 'cdktf.out/stacks/prod/plan.tfplan'), 'saved');
    const vars = { AWS_ROLE_ARN: 'arn:aws:iam::111111111111:role/plan', AWS_DEPLOY_ROLE_ARN: 'arn:aws:iam::111111111111:role/deploy', AWS_ID_TOKEN: 'jwt', CI_JOB_ID: '3' };
    const r = runJobScript('deploy:prod', vars, withPlan);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([
      'install-terraform 1.11.4 /usr/local/bin',
      'terraform init -input=false -lockfile=readonly',
      '  (in cdktf.out/stacks/prod, AWS_ROLE_ARN=arn:aws:iam::111111111111:role/deploy)',
      'terraform apply -input=false -lock-timeout=5m plan.tfplan',
      '  (in cdktf.out/stacks/prod, AWS_ROLE_ARN=arn:aws:iam::111111111111:role/deploy)',
    ]);
    const planRole = runJobScript('deploy:dev', { ...vars, AWS_DEPLOY_ROLE_ARN: undefined }, (d) => fs.writeFileSync(path.join(d, 'cdktf.out/stacks/dev/plan.tfplan'), 'x'));
    expect(planRole.status).toBe(0);
    expect(planRole.calls).toContain('  (in cdktf.out/stacks/dev, AWS_ROLE_ARN=arn:aws:iam::111111111111:role/plan)');

    const noPlan = runJobScript('deploy:staging', vars);
    expect(noPlan.status).toBe(1);
    expect(noPlan.stdout).toContain('no reviewed plan file cdktf.out/stacks/staging/plan.tfplan from plan:staging');
    expect(noPlan.calls.filter((c) => c.startsWith('terraform'))).toEqual([]);
  });
});

describe('scheduled pipelines: mutation testing only', () => {
  const SCHEDULE: Vars = { CI_PIPELINE_SOURCE: 'schedule', CI_COMMIT_BRANCH: 'main', CI_DEFAULT_BRANCH: 'main' };

  test('a schedule on the default branch runs the mutate job and nothing else: no synth, no child pipeline of plans or deploys', () => {
    const jobs = jobsIn(parent, { vars: SCHEDULE, roleByEnv: allRoles })!;
    expect([...jobs.entries()]).toEqual([['mutate', { when: 'on_success', allowFailure: undefined }]]);
  });

  test('pushes and merge requests never run the mutate job', () => {
    for (const vars of [MAIN, MERGE_REQUEST, FEATURE_PUSH]) {
      const jobs = jobsIn(parent, { vars, roleByEnv: allRoles })!;
      expect(jobs.has('mutate')).toBe(false);
      expect(['install', 'test', 'synth', 'changes', 'stacks'].every((j) => jobs.has(j))).toBe(true);
    }
  });

  test('mutate: `npm run mutate` without the TypeScript checker after `npm ci`, no needs, the HTML reports and incremental files kept even when it fails', () => {
    const m = parent.mutate;
    expect(m.stage).toBe('test');
    expect(m.needs).toEqual([]);
    expect(m.rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "schedule"' }]);
    expect(m.script).toEqual(['npm ci --prefer-offline --no-audit --no-fund', 'npm run mutate']);
    expect(m.variables).toBeUndefined();
    expect(m.artifacts).toEqual({ when: 'always', expire_in: '4 weeks', paths: ['reports/mutation/', 'reports/stryker-incremental/'] });
    expect(m.timeout).toBe('4h');
  });

  test('every other job of the parent starts its rules with "never on a schedule"', () => {
    for (const [name, j] of Object.entries(parent)) {
      if (JOB_KEYS_THAT_ARE_NOT_JOBS.has(name) || name === 'mutate') continue;
      expect([name, (j as Job).rules?.[0]]).toEqual([name, { if: '$CI_PIPELINE_SOURCE == "schedule"', when: 'never' }]);
    }
  });
});

describe('generator', () => {
  const withQa = exampleConfig((c) => {
    c.environments.push({
      name: 'qa',
      account: '222222222222',
      region: 'eu-central-1',
      availabilityZones: ['eu-central-1a', 'eu-central-1b', 'eu-central-1c'],
      network: { vpcCidr: '10.40.0.0/16' },
      ingress: { domain: 'qa.web.example.com', hostedZoneId: 'Z0QA00000000000000001' },
    });
  });

  test('a new environment in the config gets its plan and deploy jobs, last in the deploy order; the parent does not change', () => {
    const p = generateChildPipeline(withQa, changedStacks(withQa, undefined, { ...exampleHashes, qa: 'x' })) as Record<string, Job>;
    expect(p['plan:qa']).toMatchObject({ stage: 'plan', environment: { name: 'qa', action: 'prepare' }, variables: { STACK_DIR: 'cdktf.out/stacks/qa', AWS_REGION: 'eu-central-1' } });
    expect(p['deploy:qa']).toMatchObject({ stage: 'deploy', needs: [PARENT_SYNTH, 'plan:qa', 'deploy:prod'], resource_group: 'qa' });
    expect(p['deploy:qa']!.rules[0].when).toBe('on_success');
    expect(envDeploys(Object.keys(p))).toEqual(['deploy:dev', 'deploy:staging', 'deploy:prod', 'deploy:qa']);
    const jobs = jobsIn(p, { vars: MAIN, roleByEnv: { ...allRoles, qa: 'arn:aws:iam::222222222222:role/gitlab-qa' } })!;
    expect(danglingNeeds(p, jobs)).toEqual([]);
    // The parent names no stack: a new environment needs no regenerated .gitlab-ci.yml.
    expect(renderPipeline(withQa)).toBe(committedText);
  });

  test('a config other than the default is passed to synth as PLATFORM_CONFIG and named in the header', () => {
    const text = renderPipeline(config, { configPath: 'config/acme.yaml' });
    expect(text).toContain('# GENERATED from config/acme.yaml');
    expect(text).toContain('PLATFORM_CONFIG=config/acme.yaml npm run gitlab-ci');
    expect((YAML.parse(text) as Record<string, any>).variables.PLATFORM_CONFIG).toBe('config/acme.yaml');
    expect(parent.variables.PLATFORM_CONFIG).toBeUndefined();
  });

  test('the output is plain YAML: no anchors or aliases, and parses back to the generated object', () => {
    expect(committedText).not.toMatch(/[&*][a-z]+\d/);
    expect(YAML.parse(renderPipeline(config))).toEqual(generatePipeline(config));
  });

  test('scripts/gitlab-ci.ts: --check passes on the committed file, --stdout prints it, a config outside the repository is refused', () => {
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      spawnSync(process.execPath, ['--require', 'esbuild-register', path.join(ROOT, 'scripts', 'gitlab-ci.ts'), ...args], {
        cwd: ROOT,
        env: { ...process.env, PLATFORM_CONFIG: '', ...env },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const check = run(['--check']);
    expect(check.stdout).toContain('.gitlab-ci.yml is up to date with config/platform.yaml');
    expect(check.status).toBe(0);
    expect(run(['--stdout']).stdout).toBe(committedText);
    const outside = path.join(tmp, 'outside.yaml');
    fs.copyFileSync(path.join(ROOT, DEFAULT_CONFIG_PATH), outside);
    const refused = run(['--check'], { PLATFORM_CONFIG: outside });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('is outside the repository');
    expect(run(['--bogus']).status).toBe(2);
  }, 120_000);
});

describe('changed-only child pipelines (parent .gitlab-ci.yml → changes → child)', () => {
  const planJobs = (p: Record<string, any>) => Object.keys(p).filter((k) => k.startsWith('plan:'));
  const deployJobs = (p: Record<string, any>) => Object.keys(p).filter((k) => k.startsWith('deploy:'));

  test('the parent: synth saves the hashes, `changes` compares them with the target branch and writes the child, `stacks` runs it', () => {
    const changes = job('changes');
    expect(changes.needs).toEqual(['synth']);
    const script = (changes.script as string[]).join('\n');
    expect(script).toContain('BASE_REF="${CI_MERGE_REQUEST_TARGET_BRANCH_NAME:-$CI_DEFAULT_BRANCH}"');
    expect(script).toContain('"$CI_API_V4_URL/projects/$CI_PROJECT_ID/jobs/artifacts/$BASE_REF/raw/cdktf.out/stack-hashes.json?job=synth"');
    expect(script).toContain('npm run -s gitlab-ci -- --child --head cdktf.out/stack-hashes.json $BASE --out child-pipeline.yml');
    expect(changes.artifacts.paths).toEqual(['child-pipeline.yml']);
    expect(job('stacks')).toEqual({
      stage: 'stacks',
      needs: ['changes', 'test'],
      rules: [{ if: '$CI_PIPELINE_SOURCE == "schedule"', when: 'never' }, { when: 'on_success' }],
      inherit: { default: false },
      variables: { PARENT_PIPELINE_ID: '$CI_PIPELINE_ID' },
      trigger: { include: [{ artifact: 'child-pipeline.yml', job: 'changes' }], strategy: 'depend' },
    });
    expect(Object.keys(parent).filter((k) => k.startsWith('plan:') || k.startsWith('deploy:'))).toEqual([]);
  });

  test('no-op change: no plan and no deploy job, one job that says so', () => {
    const child = childOf(config, exampleHashes, exampleHashes);
    expect(planJobs(child)).toEqual([]);
    expect(deployJobs(child)).toEqual([]);
    expect(child['no-changes'].script.join('\n')).toContain('nothing to plan or deploy');
  });

  test('one-customer change: exactly one plan job (and its deploy, after nothing but its plan)', () => {
    const cfg = exampleConfig((c) => (c.customers[1].web.healthCheckPath = '/ready'));
    const head = hashStacks(synthTo(cfg));
    const child = childOf(cfg, exampleHashes, head);
    expect(planJobs(child)).toEqual(['plan:dev-blog']);
    expect(deployJobs(child)).toEqual(['deploy:dev-blog']);
    expect(child['deploy:dev-blog'].needs).toEqual([PARENT_SYNTH, 'plan:dev-blog']);
    const jobs = jobsIn(child, { vars: MAIN, roleByEnv: allRoles })!;
    expect(danglingNeeds(child, jobs)).toEqual([]);
    expect(renderChildPipeline(cfg, changedStacks(cfg, exampleHashes, head))).toContain('#   dev-blog: synthesized JSON changed');
  });

  test("environment change: the environment and every one of its customers replan; customers plan after the environment's deploy on the default branch", () => {
    const cfg = exampleConfig((c) => (c.environments[0].alarms = { emails: ['dev-ops@example.com'] }));
    const head = hashStacks(synthTo(cfg));
    // Only the environment's JSON changed; its customers count as changed through it.
    expect(Object.keys(head).filter((s) => head[s] !== exampleHashes[s])).toEqual(['dev']);
    const changes = changedStacks(cfg, exampleHashes, head);
    expect(changes.reasons).toEqual({ dev: 'synthesized JSON changed', 'dev-shop': 'environment dev changed', 'dev-blog': 'environment dev changed', 'dev-wiki': 'environment dev changed' });
    const child = childOf(cfg, exampleHashes, head);
    expect(planJobs(child)).toEqual(['plan:dev', 'plan:dev-shop', 'plan:dev-blog', 'plan:dev-wiki']);
    expect(deployJobs(child)).toEqual(['deploy:dev', 'deploy:dev-shop', 'deploy:dev-blog', 'deploy:dev-wiki']);
    expect(child['plan:dev-shop'].needs).toEqual([PARENT_SYNTH, { job: 'deploy:dev', optional: true }]);
    expect(child['deploy:dev-shop'].needs).toEqual([PARENT_SYNTH, 'plan:dev-shop', 'deploy:dev']);
    expect(child['deploy:dev'].needs).toEqual([PARENT_SYNTH, 'plan:dev']);
    for (const vars of [MAIN, MERGE_REQUEST]) {
      const jobs = jobsIn(child, { vars, roleByEnv: allRoles })!;
      expect(danglingNeeds(child, jobs)).toEqual([]);
    }
  });

  test('new environment with its customers: planned; in a merge request the customers report "waits for <env>" instead of failing', () => {
    const cfg = exampleConfig((c) => {
      c.environments.push({
        name: 'qa',
        account: '222222222222',
        region: 'eu-central-1',
        availabilityZones: ['eu-central-1a', 'eu-central-1b', 'eu-central-1c'],
        network: { vpcCidr: '10.40.0.0/16' },
        ingress: { domain: 'qa.web.example.com', hostedZoneId: 'Z0QA00000000000000001' },
      });
      c.gitlab.repositories[2].branches.qa = 'qa';
    });
    const head = hashStacks(synthTo(cfg));
    const changes = changedStacks(cfg, exampleHashes, head);
    expect(changes.newEnvironments).toEqual(['qa']);
    const child = childOf(cfg, exampleHashes, head);
    expect(planJobs(child)).toEqual(['plan:bootstrap', 'plan:qa', 'plan:qa-blog']);
    expect(deployJobs(child)).toEqual(['deploy:qa', 'deploy:qa-blog']);
    expect(child['deploy:qa'].needs).toEqual([PARENT_SYNTH, 'plan:qa']);

    const c = child['plan:qa-blog'];
    const script = (c.script as string[]).join('\n');
    // Run it the way a merge-request pipeline does, with stand-ins for npm and terraform.
    const orig = pipeline['plan:qa-blog'];
    pipeline['plan:qa-blog'] = c;
    try {
      const mr = runJobScript('plan:qa-blog', { ...MERGE_REQUEST, AWS_ROLE_ARN: 'arn:aws:iam::222222222222:role/plan', AWS_ID_TOKEN: 'jwt', CI_JOB_ID: '9' });
      expect(mr.status).toBe(0);
      expect(mr.stdout).toContain('qa-blog waits for qa: the environment is new in this change');
      expect(mr.calls).toEqual([]);
      // On the default branch it runs after deploy:qa and plans for real.
      const main = runJobScript('plan:qa-blog', { ...MAIN, AWS_ROLE_ARN: 'arn:aws:iam::222222222222:role/plan', AWS_ID_TOKEN: 'jwt', CI_JOB_ID: '10' }, (d) =>
        fs.mkdirSync(path.join(d, 'cdktf.out/stacks/qa-blog'), { recursive: true }),
      );
      expect(main.status).toBe(0);
      expect(main.calls).toContain('terraform plan -input=false -lock-timeout=5m -out=plan.tfplan');
    } finally {
      if (orig === undefined) delete pipeline['plan:qa-blog'];
      else pipeline['plan:qa-blog'] = orig;
    }
    expect(script).toMatch(/^if \[ "\$\{CI_COMMIT_BRANCH:-\}" != "\$CI_DEFAULT_BRANCH" \]/);
    expect(c.needs).toEqual([PARENT_SYNTH, { job: 'deploy:qa', optional: true }]);
  });

  test('a customer plan whose environment state or new output is missing reports "waits for <env>"; other failures fail', () => {
    const withStub = (stderr: string) => {
      return runJobScript('plan:dev-shop', { AWS_ROLE_ARN: 'arn:aws:iam::111111111111:role/plan', AWS_ID_TOKEN: 'jwt', CI_JOB_ID: '11', FAKE_PLAN_STDERR: stderr }, (dir) => {
        // A terraform stand-in whose plan fails with the given message.
        fs.writeFileSync(path.join(dir, '.fake-bin', 'terraform'), `#!/bin/bash\n[ "$1" = plan ] && { echo "$FAKE_PLAN_STDERR" >&2; exit 1; }\nexit 0\n`, { mode: 0o755 });
      });
    };
    const waiting = withStub('Error: Unable to find remote state');
    expect(waiting.status).toBe(0);
    expect(waiting.stdout).toContain('dev-shop waits for dev: its state (or a new output of it) does not exist yet');
    const broken = withStub('Error: Invalid reference');
    expect(broken.status).toBe(1);
  });

  test('no baseline (first pipeline, expired artifact, PLAN_ALL_STACKS=1): every stack is planned; removed stacks are named', () => {
    expect(planJobs(pipeline)).toEqual(pipelineStacks(config).map(planJobName));
    const gone = changedStacks(config, { ...exampleHashes, 'dev-old': 'a'.repeat(64) }, exampleHashes);
    expect(gone.removed).toEqual(['dev-old']);
    expect(renderChildPipeline(config, gone)).toContain('stack dev-old is no longer synthesized: destroy it by hand');
    expect(renderChildPipeline(config, changedStacks(config, undefined, exampleHashes))).not.toMatch(/[&*][a-z]+\d/);
  });
});
