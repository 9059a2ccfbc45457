/**
 * Every deterministic name the platform creates, in one place, so that validation can check the
 * names that will really be used (S3 and IAM length and character rules) before anything is built.
 * Pattern: `${project}-${env}-${what}` (plus account and region where S3 needs global uniqueness).
 */
import { createHash } from 'crypto';

export interface EnvNameParts {
  readonly project: string;
  readonly env: string;
  readonly account: string;
  readonly region: string;
}

/** `${project}-${env}-${...parts}`: the one way to name a resource of an environment. */
export function envName(p: Pick<EnvNameParts, 'project' | 'env'>, ...parts: string[]): string {
  return [p.project, p.env, ...parts].join('-');
}

export function artifactBucketName(p: EnvNameParts): string {
  return envName(p, 'artifacts', p.account, p.region);
}

export function albLogBucketName(p: EnvNameParts): string {
  return envName(p, 'alb-logs', p.account, p.region);
}

/**
 * The environment's ALB of load-balancer shard `shard`: `${project}-${env}` for shard 0 (at most 31
 * characters by the config rules; ELB allows 32: the name existing environments already have),
 * `${project}-${env}-s<n>` for the others, fitted to 32 characters.
 */
export function albName(p: Pick<EnvNameParts, 'project' | 'env'>, shard = 0): string {
  return shard === 0 ? envName(p) : fitName(envName(p, `s${shard}`), ELB_NAME_MAX);
}

/**
 * Names of one load-balancer shard's resources. Shard 0 keeps the names of the single-ALB design
 * (`<project>-<env>-alb`, `-http`, `-https`); shard n adds `-s<n>`.
 */
export function albShardNames(p: Pick<EnvNameParts, 'project' | 'env'>, shard = 0) {
  const sfx = shard === 0 ? [] : [`s${shard}`];
  return {
    loadBalancer: albName(p, shard),
    securityGroup: envName(p, 'alb', ...sfx),
    httpListener: envName(p, 'http', ...sfx),
    httpsListener: envName(p, 'https', ...sfx),
  } as const;
}

export function stateBucketName(p: Omit<EnvNameParts, 'env'>): string {
  return [p.project, 'tfstate', p.account, p.region].join('-');
}

/**
 * `/${project}/${env}/${parts...}`: the one way to name a CloudWatch log group of an environment.
 * Every platform log group lives under `/<project>/<env>/`, so one KMS key-policy condition covers
 * them all. Lambda and CodeBuild take such names through their logging configuration.
 */
export function logGroupName(p: Pick<EnvNameParts, 'project' | 'env'>, ...parts: string[]): string {
  if (parts.length === 0) throw new Error('logGroupName: give at least one part after project and environment');
  for (const part of parts) {
    if (!/^[A-Za-z0-9_.#-]+$/.test(part)) throw new Error(`logGroupName: part ${JSON.stringify(part)} may use only A-Z a-z 0-9 _ . # -`);
  }
  return `/${[p.project, p.env, ...parts].join('/')}`;
}

/** `/${project}/${env}/`: the name prefix every log group of the environment starts with. */
export function logGroupPrefix(p: Pick<EnvNameParts, 'project' | 'env'>): string {
  return `/${p.project}/${p.env}/`;
}

/** The CloudWatch log groups of an environment, by purpose. */
export function logGroupNames(p: Pick<EnvNameParts, 'project' | 'env'>) {
  return {
    cloudTrail: logGroupName(p, 'cloudtrail'),
    infrastructurePipeline: logGroupName(p, 'codebuild', 'infrastructure-pipeline'),
    sourceFetchSoftware: logGroupName(p, 'codebuild', 'gitlab-source-fetch-software'),
    sourceFetchInfrastructure: logGroupName(p, 'codebuild', 'gitlab-source-fetch-infrastructure'),
    webhookLambda: logGroupName(p, 'lambda', 'gitlab-webhook'),
    webhookWorker: logGroupName(p, 'lambda', 'gitlab-worker'),
    reconciler: logGroupName(p, 'lambda', 'gitlab-reconciler'),
    webhookApi: logGroupName(p, 'apigw', 'gitlab-webhook'),
  } as const;
}

/**
 * SSM parameters of the GitLab integration. The operator sets their values (README runbook); the
 * stacks only reference them by name, so no secret is ever in Terraform state.
 */
export function gitlabParameterNames(p: Pick<EnvNameParts, 'project' | 'env'>) {
  const base = `/${p.project}/${p.env}/gitlab`;
  return {
    /** SecureString: the secret token GitLab sends in X-Gitlab-Token. */
    webhookToken: `${base}/webhook-token`,
    /** SecureString: the signing token of signed webhooks (Standard Webhooks). */
    webhookSigningSecret: `${base}/webhook-signing-secret`,
    /** SecureString: the deploy token CodeBuild clones with. */
    deployToken: `${base}/deploy-token`,
    /** String: the deploy token's user name (gitlab+deploy-token-<n>). */
    deployTokenUser: `${base}/deploy-token-user`,
    /** SecureString (environment KMS key): a read-only GitLab API token (read_api) for the reconciler. */
    apiToken: `${base}/api-token`,
  } as const;
}

/** `alias/${project}-${env}`: the alias of the environment's KMS key. */
export function kmsAliasName(p: Pick<EnvNameParts, 'project' | 'env'>): string {
  return `alias/${envName(p)}`;
}

/** The CloudTrail trail of an environment. */
export function trailName(p: Pick<EnvNameParts, 'project' | 'env'>): string {
  return envName(p, 'trail');
}

/** EventBridge rules that fire on new pipeline sources, by artifact kind. */
export function sourceRuleNames(p: Pick<EnvNameParts, 'project' | 'env'>) {
  return {
    software: envName(p, 'software-source-written'),
    infrastructure: envName(p, 'infrastructure-source-written'),
  } as const;
}

/**
 * The durable ingestion path of an environment: the delivery queue and its dead-letter queue, the
 * worker and reconciler functions, the reconcile schedule, the dead-letter and build-retried alarms.
 */
export function ingestionNames(p: Pick<EnvNameParts, 'project' | 'env'>) {
  return {
    deliveryQueue: envName(p, 'gitlab-deliveries'),
    deadLetterQueue: envName(p, 'gitlab-deliveries-dlq'),
    workerFunction: envName(p, 'gitlab-worker'),
    reconcilerFunction: envName(p, 'gitlab-reconciler'),
    reconcileSchedule: envName(p, 'gitlab-reconcile'),
    /** Starts with `<project>-<env>-`: the alarm topic accepts alarms of its environment only. */
    deadLetterAlarm: envName(p, 'gitlab-deliveries-dead-lettered'),
    /** The reconciler queued a head again whose build did not produce its zip (ReconcileBuildRetried > 0). */
    buildRetriedAlarm: envName(p, 'gitlab-build-retried'),
  } as const;
}

/** The IAM role names of an environment, by purpose. */
export function roleNames(p: Pick<EnvNameParts, 'project' | 'env'>) {
  return {
    infrastructurePipeline: envName(p, 'infrastructure-pipeline'),
    ec2ResourceDeploy: envName(p, 'ec2-resource-deploy'),
    cloudTrailLogs: envName(p, 'cloudtrail-logs'),
    webhookLambda: envName(p, 'gitlab-webhook'),
    webhookWorker: envName(p, 'gitlab-worker'),
    reconciler: envName(p, 'gitlab-reconciler'),
    reconcileScheduler: envName(p, 'gitlab-reconcile-scheduler'),
    sourceFetchSoftware: fitName(envName(p, 'gitlab-source-fetch', 'software'), NAME_LIMITS.iamRole),
    sourceFetchInfrastructure: fitName(envName(p, 'gitlab-source-fetch', 'infrastructure'), NAME_LIMITS.iamRole),
  } as const;
}

/**
 * One NAT slot (one AZ's NAT instance) of an environment: `<project>-<env>-nat-<az>`. The slot is
 * the value of the `nat-slot` tag on its instance, ENIs and Elastic IP, and the name of its launch
 * template and auto scaling group.
 */
export function natSlotName(p: Pick<EnvNameParts, 'project' | 'env'>, az: string): string {
  return envName(p, 'nat', az);
}

/**
 * The IAM role (and instance profile) of one NAT slot: the slot name, fitted to IAM's 64
 * characters. With the longest accepted names (project 20, environment 10, an AZ such as
 * ap-southeast-1a) it is 51 characters, so fitName never shortens it in practice.
 */
export function natSlotRoleName(p: Pick<EnvNameParts, 'project' | 'env'>, az: string): string {
  return fitName(natSlotName(p, az), NAME_LIMITS.iamRole);
}

export const ELB_NAME_MAX = 32;

/** Problems with a load balancer name under ELB's naming rules, or [] when it is valid. */
export function loadBalancerNameProblems(name: string): string[] {
  const out: string[] = [];
  if (name.length < 1 || name.length > ELB_NAME_MAX) out.push(`is ${name.length} characters; ELB allows 1 to ${ELB_NAME_MAX}`);
  if (!/^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/.test(name)) out.push('may use only letters, digits and "-", starting and ending with a letter or digit');
  if (name.startsWith('internal-')) out.push('may not start with "internal-"');
  return out;
}

export const S3_BUCKET_NAME = /^(?!xn--)(?!sthree-)[a-z0-9][a-z0-9.-]*[a-z0-9]$/;
export const IAM_ROLE_NAME_MAX = 64;

/** Problems with a bucket name under S3's general-purpose naming rules, or [] when it is valid. */
export function bucketNameProblems(name: string): string[] {
  const out: string[] = [];
  if (name.length < 3 || name.length > 63) out.push(`is ${name.length} characters; S3 allows 3 to 63`);
  if (!S3_BUCKET_NAME.test(name)) out.push('may use only a-z, 0-9, "." and "-", starting and ending with a letter or digit');
  if (name.includes('..') || /\d+\.\d+\.\d+\.\d+/.test(name)) out.push('may not contain ".." or look like an IP address');
  if (/-s3alias$|--ol-s3$|--x-s3$/.test(name)) out.push('may not end with a reserved S3 suffix');
  return out;
}

// ---------------------------------------------------------------------------------------------
// Limits and customers
// ---------------------------------------------------------------------------------------------

/** AWS's name length limits for every kind of name the platform creates. */
export const NAME_LIMITS = {
  iamRole: 64,
  iamPolicy: 128,
  instanceProfile: 128,
  loadBalancer: 32,
  targetGroup: 32,
  s3Bucket: 63,
  lambda: 64,
  eventRule: 64,
  rdsIdentifier: 63,
  dbSnapshot: 255,
  dbSubnetGroup: 255,
  dbParameterGroup: 255,
  acmFirstDomain: 64,
  launchTemplate: 128,
  autoScalingGroup: 255,
  securityGroup: 255,
  snsTopic: 256,
  alarm: 255,
  logGroup: 512,
  scalingPolicy: 255,
  codebuildProject: 150,
  trail: 128,
  kmsAlias: 256,
  ssmParameter: 1011,
  apiGateway: 128,
  sqsQueue: 80,
  schedulerSchedule: 64,
  dnsName: 253,
  codePipeline: 100,
  codeDeployApplication: 100,
  codeDeployDeploymentGroup: 100,
  codeDeployDeploymentConfig: 100,
} as const;
export type NameKind = keyof typeof NAME_LIMITS;

/**
 * `full` when it fits `max` characters; otherwise its first characters, "-" and 6 hex digits of
 * its SHA-256: deterministic, within the limit, and still unique (the hash covers the whole name).
 */
export function fitName(full: string, max: number): string {
  if (full.length <= max) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 6);
  return `${full.slice(0, max - 7).replace(/-+$/, '')}-${hash}`;
}

/** RDS DB identifiers: a letter, then letters, digits and single hyphens, not ending in a hyphen. */
export const RDS_IDENTIFIER = /^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$/;

/** The stack of one customer in one environment: `<env>-<customer>`, e.g. `dev-shop`. */
export function customerStackName(env: string, customer: string): string {
  return `${env}-${customer}`;
}

/** The customer's default host name: `<customer>.<environment domain>`. */
export function customerDefaultHost(customer: string, domain: string): string {
  return `${customer}.${domain}`;
}

/**
 * The IAM name pattern of every customer's instance role in an environment: `<project>-<env>-*-web`
 * (see `customerNames().instanceRole`). With the accepted names (project 20, environment 10,
 * customer 20 characters) an instance role name is at most 56 characters, so `fitName` never
 * shortens it; a shortened name would end in a hash, not `-web`, and would simply not match
 * (fail closed). Limitation: IAM role names are account-wide, so a role of ANOTHER project whose
 * name starts with `<project>-<env>-` and ends with `-web` (project `acme-dev` next to project
 * `acme` with environment `dev`) would match too; projects sharing an account must not nest so.
 */
export function customerInstanceRolePattern(p: Pick<EnvNameParts, 'project' | 'env'>): string {
  return `${envName(p)}-*-web`;
}

/** The environment's alarm topic (SNS). */
export function alarmTopicName(p: Pick<EnvNameParts, 'project' | 'env'>): string {
  return envName(p, 'alarms');
}

/** The S3 key prefix of a customer's machine-image recipes (`infrastructure/<customer>/`). */
export function customerInfrastructurePrefix(customer: string): string {
  return `infrastructure/${customer}/`;
}

/** The S3 key prefix of a customer's software releases (`software/<customer>/`). */
export function customerSoftwarePrefix(customer: string): string {
  return `software/${customer}/`;
}

/**
 * Every name of one customer's resources in one environment. `<project>-<env>-<customer>-<what>`
 * where AWS allows it; names with short limits (target groups 32, IAM roles 64, RDS 63) are
 * fitted with `fitName`, so every name the validator accepts is one AWS accepts.
 */
export function customerNames(p: Pick<EnvNameParts, 'project' | 'env'>, customer: string) {
  const base = envName(p, customer);
  return {
    /** `<project>-<env>-<customer>`: the prefix of the names below, and the `customer-scope` tag value. */
    base,
    instanceRole: fitName(`${base}-web`, NAME_LIMITS.iamRole),
    instanceProfile: fitName(`${base}-web`, NAME_LIMITS.instanceProfile),
    webSecurityGroup: `${base}-web`,
    databaseSecurityGroup: `${base}-db`,
    launchTemplate: `${base}-web`,
    autoScalingGroup: `${base}-web`,
    scalingPolicy: `${base}-requests-per-target`,
    targetGroup: fitName(base, NAME_LIMITS.targetGroup),
    database: fitName(base, NAME_LIMITS.rdsIdentifier),
    databaseSubnetGroup: `${base}-db`,
    databaseParameterGroup: `${base}-db`,
    /** The final snapshot of a production database when it is destroyed: `<database>-final`. */
    databaseFinalSnapshot: fitName(`${fitName(base, NAME_LIMITS.rdsIdentifier)}-final`, NAME_LIMITS.dbSnapshot),
    /** The database's name inside the engine (letters, digits, underscores). */
    databaseName: customer.replace(/-/g, '_'),
    appLogGroup: logGroupName(p, 'customers', customer, 'app'),
    /** SSM parameter path holding the customer's non-secret app settings. */
    settingsParameter: `/${p.project}/${p.env}/customers/${customer}/settings`,
    alarms: {
      unhealthyHosts: `${base}-unhealthy-hosts`,
      target5xx: `${base}-target-5xx`,
    },
    /** CodeDeploy application of the customer's releases (one per customer per environment). */
    codeDeployApplication: fitName(base, NAME_LIMITS.codeDeployApplication),
    /** The one deployment group on the customer's auto scaling group (several would fight over its launch hook). */
    deploymentGroup: fitName(`${base}-web`, NAME_LIMITS.codeDeployDeploymentGroup),
    /** The customer's in-place deployment configuration (minimum healthy hosts from its capacity). */
    deploymentConfig: fitName(`${base}-in-place`, NAME_LIMITS.codeDeployDeploymentConfig),
    /** Role of the customer's pipelines (CodePipeline service role). */
    pipelineRole: fitName(`${base}-pipeline`, NAME_LIMITS.iamRole),
    /** Role of the customer's deployment group (CodeDeploy service role). */
    codeDeployRole: fitName(`${base}-codedeploy`, NAME_LIMITS.iamRole),
    /** Role the customer's source rules start its pipelines with (EventBridge). */
    pipelineStartRole: fitName(`${base}-pipeline-start`, NAME_LIMITS.iamRole),
    /** Image pipeline: the CodePipeline service role of the customer's image pipelines. */
    imagePipelineRole: fitName(`${base}-image-pipeline`, NAME_LIMITS.iamRole),
    /** Image pipeline: the role its source rules start the image pipelines with (EventBridge). */
    imagePipelineStartRole: fitName(`${base}-image-start`, NAME_LIMITS.iamRole),
    /** Image pipeline: the Packer build (CodeBuild project, its role, log group, security group). */
    imageBakeProject: fitName(`${base}-image-bake`, NAME_LIMITS.codebuildProject),
    imageBakeRole: fitName(`${base}-image-bake`, NAME_LIMITS.iamRole),
    imageBakeLogGroup: logGroupName(p, 'customers', customer, 'image-bake'),
    imageBakeSecurityGroup: `${base}-image-bake`,
    /** Image pipeline: the rollout (CodeBuild project, its role, log group). */
    imageRolloutProject: fitName(`${base}-image-rollout`, NAME_LIMITS.codebuildProject),
    imageRolloutRole: fitName(`${base}-image-rollout`, NAME_LIMITS.iamRole),
    imageRolloutLogGroup: logGroupName(p, 'customers', customer, 'image-rollout'),
  } as const;
}

/** The longest stack name the platform accepts (`<env>-<customer>`; a Terraform state key and a folder). */
export const STACK_NAME_MAX = 64;

/** Messages for the names of `checks` longer than their limit: `the <what> name "<name>" is N characters; AWS allows M`. */
function tooLong(checks: ReadonlyArray<readonly [what: string, name: string, max: number]>): string[] {
  return checks.filter(([, name, max]) => name.length > max).map(([what, name, max]) => `the ${what} name "${name}" is ${name.length} characters; AWS allows ${max}`);
}

/**
 * Problems with an environment's generated names that are not fitted to their limit (`fitName`):
 * its IAM roles and its GitLab ingestion queues, functions, schedule and alarms; [] when all fit.
 * The validator reports them on the environment (buckets and ALBs have their own rules above).
 */
export function environmentNameProblems(p: Pick<EnvNameParts, 'project' | 'env'>): string[] {
  const i = ingestionNames(p);
  return tooLong([
    ...Object.values(roleNames(p)).map((r) => ['IAM role', r, NAME_LIMITS.iamRole] as const),
    ['SQS queue', i.deliveryQueue, NAME_LIMITS.sqsQueue],
    ['SQS queue', i.deadLetterQueue, NAME_LIMITS.sqsQueue],
    ['Lambda function', i.workerFunction, NAME_LIMITS.lambda],
    ['Lambda function', i.reconcilerFunction, NAME_LIMITS.lambda],
    ['schedule', i.reconcileSchedule, NAME_LIMITS.schedulerSchedule],
    ['alarm', i.deadLetterAlarm, NAME_LIMITS.alarm],
    ['alarm', i.buildRetriedAlarm, NAME_LIMITS.alarm],
  ]);
}

/**
 * Problems with one customer's names in one environment that `customerNames` does not fit to
 * their limit (launch template, stack, default host) and, with a database, an RDS identifier that
 * is not valid (a customer or project name with "--"); [] when AWS accepts them all.
 */
export function customerNameProblems(p: Pick<EnvNameParts, 'project' | 'env'>, customer: string, defaultHost: string, database: boolean): string[] {
  const n = customerNames(p, customer);
  const out = tooLong([
    ['launch template', n.launchTemplate, NAME_LIMITS.launchTemplate],
    ['stack', customerStackName(p.env, customer), STACK_NAME_MAX],
    ['host name', defaultHost, NAME_LIMITS.dnsName],
  ]);
  if (database && !RDS_IDENTIFIER.test(n.database)) out.push(`the RDS identifier "${n.database}" is not valid (a letter, then letters, digits and single hyphens)`);
  return out;
}

/** Length of the folder CodePipeline keeps a pipeline's artifacts in: the first 20 characters of its name. */
export const PIPELINE_ARTIFACT_FOLDER_LENGTH = 20;

/**
 * A git branch as a name part: itself when it uses only A-Z a-z 0-9 "." "-"; otherwise the other
 * characters become "-" and 6 hex digits of the branch's SHA-256 follow, so `feature/x` and
 * `feature-x` stay apart.
 */
export function branchNamePart(branch: string): string {
  const safe = branch.replace(/[^A-Za-z0-9.-]/g, '-');
  if (safe === branch) return branch;
  return `${safe}-${createHash('sha256').update(branch).digest('hex').slice(0, 6)}`;
}

/**
 * The names of the software pipeline of one routed branch of a customer in one environment.
 *
 * CodePipeline keeps a pipeline's artifacts in the artifact bucket under a folder named after the
 * first 20 characters of the pipeline's name. So that a customer's roles can be given exactly its
 * own folders, the pipeline name starts with a 20-character folder of its own: up to 11 characters
 * of the customer, "-", then hex digits of SHA-256 over project, environment, customer and branch.
 * Every folder has exactly 20 characters, so no folder is a prefix of another one.
 */
export function customerPipelineNames(p: Pick<EnvNameParts, 'project' | 'env'>, customer: string, branch: string) {
  const hash = createHash('sha256').update([p.project, p.env, customer, branch].join('\n')).digest('hex');
  const artifactFolder = `${customer.slice(0, 11)}-${hash}`.slice(0, PIPELINE_ARTIFACT_FOLDER_LENGTH);
  const part = branchNamePart(branch);
  return {
    /** `<folder>-<env>-<branch>`: the folder first (see above), then what a person reads. */
    pipeline: fitName(`${artifactFolder}-${p.env}-${part}`, NAME_LIMITS.codePipeline),
    /**
     * The folder of the pipeline's artifacts in the artifact bucket (no "/"): every artifact key
     * starts with it, whether CodePipeline names the folder after 20 characters or the whole name.
     */
    artifactFolder,
    /** The EventBridge rule that starts the pipeline when the branch's zip is written. */
    sourceRule: fitName(`${envName(p, customer)}-${part}-source`, NAME_LIMITS.eventRule),
    /** The key the branch's pushes are written to: `software/<customer>/<branch>.zip`. */
    sourceKey: `${customerSoftwarePrefix(customer)}${branch}.zip`,
  } as const;
}

/**
 * The names of the image pipeline of one routed infrastructure branch of a customer in one
 * environment; the same scheme as `customerPipelineNames` (a 20-character artifact folder of its
 * own first), with "image" in the hash, so a software and an infrastructure branch of the same
 * name never share a folder, a pipeline or a rule.
 */
export function customerImagePipelineNames(p: Pick<EnvNameParts, 'project' | 'env'>, customer: string, branch: string) {
  const hash = createHash('sha256').update(['image', p.project, p.env, customer, branch].join('\n')).digest('hex');
  const artifactFolder = `${customer.slice(0, 11)}-${hash}`.slice(0, PIPELINE_ARTIFACT_FOLDER_LENGTH);
  const part = branchNamePart(branch);
  return {
    /** `<folder>-<env>-image-<branch>`. */
    pipeline: fitName(`${artifactFolder}-${p.env}-image-${part}`, NAME_LIMITS.codePipeline),
    artifactFolder,
    /** The EventBridge rule that starts the pipeline when the branch's zip is written. */
    sourceRule: fitName(`${envName(p, customer)}-${part}-image-source`, NAME_LIMITS.eventRule),
    /** The key the branch's pushes are written to: `infrastructure/<customer>/<branch>.zip`. */
    sourceKey: `${customerInfrastructurePrefix(customer)}${branch}.zip`,
  } as const;
}
