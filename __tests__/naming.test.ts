/**
 * The naming module (stacks/model/naming.ts), pure: the exact names it gives for given inputs, the
 * AWS name rules it checks, and where `fitName` shortens a name (at the limit, not before) and how.
 * The names in the synthesized stacks are tested by name-limits.test.ts and the snapshots.
 */
import { createHash } from 'crypto';
import * as fc from 'fast-check';
import {
  ELB_NAME_MAX,
  IAM_ROLE_NAME_MAX,
  NAME_LIMITS,
  PIPELINE_ARTIFACT_FOLDER_LENGTH,
  RDS_IDENTIFIER,
  S3_BUCKET_NAME,
  STACK_NAME_MAX,
  alarmTopicName,
  albLogBucketName,
  albName,
  albShardNames,
  artifactBucketName,
  branchNamePart,
  bucketNameProblems,
  customerDefaultHost,
  customerImagePipelineNames,
  customerInfrastructurePrefix,
  customerInstanceRolePattern,
  customerNames,
  customerPipelineNames,
  customerSoftwarePrefix,
  customerNameProblems,
  customerStackName,
  envName,
  environmentNameProblems,
  fitName,
  gitlabParameterNames,
  ingestionNames,
  kmsAliasName,
  loadBalancerNameProblems,
  logGroupName,
  logGroupNames,
  logGroupPrefix,
  natSlotName,
  natSlotRoleName,
  roleNames,
  sourceRuleNames,
  stateBucketName,
  trailName,
} from '../stacks/model/naming';

/** The first 6 hex digits of SHA-256: the suffix fitName and branchNamePart add. */
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const sha6 = (s: string) => sha(s).slice(0, 6);

const ENV = { project: 'acme-web', env: 'dev', account: '111111111111', region: 'eu-west-1' };
/** The longest project (20) and environment (10) the config accepts. */
const LONG = { project: 'p'.repeat(20), env: 'e'.repeat(10) };
const LONG_CUSTOMER = 'c'.repeat(20);
const LONG_BASE = `${LONG.project}-${LONG.env}-${LONG_CUSTOMER}`;

describe('fitName', () => {
  test.each([
    ['a name of exactly the limit is kept', 'abcdefghij', 10, 'abcdefghij'],
    ['a shorter name is kept', 'abc', 10, 'abc'],
    ['one character over: the first max-7 characters, "-" and 6 hex digits', 'abcdefghijk', 10, `abc-${sha6('abcdefghijk')}`],
    ['hyphens at the cut are dropped, not doubled', 'a---bcdefghijk', 10, `a-${sha6('a---bcdefghijk')}`],
    ['only the hyphens at the end of the cut are dropped', 'a-b-cdefghijk', 11, `a-b-${sha6('a-b-cdefghijk')}`],
  ])('%s', (_what, full, max, fitted) => {
    expect(fitName(full, max)).toBe(fitted);
  });

  test('property: a shortened name is exactly max characters unless hyphens were dropped, and its hash covers the whole name', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9]{0,100}$/), fc.integer({ min: 8, max: 64 }), (name, max) => {
        const fitted = fitName(name, max);
        if (name.length <= max) return expect(fitted).toBe(name);
        expect(fitted).toBe(`${name.slice(0, max - 7)}-${sha6(name)}`);
        expect(fitted).toHaveLength(max);
      }),
    );
  });
});

describe('environment names', () => {
  test('envName joins project, environment and the parts with "-"', () => {
    expect(envName(ENV)).toBe('acme-web-dev');
    expect(envName(ENV, 'a', 'b')).toBe('acme-web-dev-a-b');
  });

  test('buckets: artifacts and ALB logs per account and region, the state bucket per project', () => {
    expect(artifactBucketName(ENV)).toBe('acme-web-dev-artifacts-111111111111-eu-west-1');
    expect(albLogBucketName(ENV)).toBe('acme-web-dev-alb-logs-111111111111-eu-west-1');
    expect(stateBucketName(ENV)).toBe('acme-web-tfstate-111111111111-eu-west-1');
  });

  test('ALBs: shard 0 is <project>-<env> even at 31 characters; shard n adds -s<n>, fitted to 32', () => {
    expect(albName(ENV)).toBe('acme-web-dev');
    expect(albName(ENV, 0)).toBe('acme-web-dev');
    expect(albName(ENV, 2)).toBe('acme-web-dev-s2');
    expect(albName(LONG, 0)).toBe(`${LONG.project}-${LONG.env}`);
    const s1 = `${LONG.project}-${LONG.env}-s1`;
    expect(albName(LONG, 1)).toBe(`${s1.slice(0, ELB_NAME_MAX - 7)}-${sha6(s1)}`);
    expect(albShardNames(ENV)).toEqual(albShardNames(ENV, 0));
    expect(albShardNames(LONG, 1)).toEqual({
      loadBalancer: albName(LONG, 1),
      securityGroup: `${LONG.project}-${LONG.env}-alb-s1`,
      httpListener: `${LONG.project}-${LONG.env}-http-s1`,
      httpsListener: `${LONG.project}-${LONG.env}-https-s1`,
    });
  });

  test('log groups: /<project>/<env>/<parts>, by purpose', () => {
    expect(logGroupPrefix(ENV)).toBe('/acme-web/dev/');
    expect(logGroupName(ENV, 'x')).toBe('/acme-web/dev/x');
    expect(logGroupNames(ENV)).toEqual({
      cloudTrail: '/acme-web/dev/cloudtrail',
      infrastructurePipeline: '/acme-web/dev/codebuild/infrastructure-pipeline',
      sourceFetchSoftware: '/acme-web/dev/codebuild/gitlab-source-fetch-software',
      sourceFetchInfrastructure: '/acme-web/dev/codebuild/gitlab-source-fetch-infrastructure',
      webhookLambda: '/acme-web/dev/lambda/gitlab-webhook',
      webhookWorker: '/acme-web/dev/lambda/gitlab-worker',
      reconciler: '/acme-web/dev/lambda/gitlab-reconciler',
      webhookApi: '/acme-web/dev/apigw/gitlab-webhook',
    });
  });

  test.each(['Az09_.#-', 'a', '#', 'customers'])('log group part %j is accepted', (part) => {
    expect(logGroupName(ENV, 'x', part)).toBe(`/acme-web/dev/x/${part}`);
  });

  test.each(['', 'a/b', '/a', 'a/', 'a b', 'ä', '*'])('log group part %j is refused, by name', (part) => {
    expect(() => logGroupName(ENV, 'ok', part)).toThrow(`logGroupName: part ${JSON.stringify(part)} may use only A-Z a-z 0-9 _ . # -`);
  });

  test('a log group needs a part after project and environment', () => {
    expect(() => logGroupName(ENV)).toThrow('logGroupName: give at least one part after project and environment');
  });

  test('GitLab parameters, KMS alias, trail, source rules, alarm topic', () => {
    expect(gitlabParameterNames(ENV)).toEqual({
      webhookToken: '/acme-web/dev/gitlab/webhook-token',
      webhookSigningSecret: '/acme-web/dev/gitlab/webhook-signing-secret',
      deployToken: '/acme-web/dev/gitlab/deploy-token',
      deployTokenUser: '/acme-web/dev/gitlab/deploy-token-user',
      apiToken: '/acme-web/dev/gitlab/api-token',
    });
    expect(kmsAliasName(ENV)).toBe('alias/acme-web-dev');
    expect(trailName(ENV)).toBe('acme-web-dev-trail');
    expect(sourceRuleNames(ENV)).toEqual({ software: 'acme-web-dev-software-source-written', infrastructure: 'acme-web-dev-infrastructure-source-written' });
    expect(alarmTopicName(ENV)).toBe('acme-web-dev-alarms');
  });

  test('ingestion: queues, functions, schedule and alarms', () => {
    expect(ingestionNames(ENV)).toEqual({
      deliveryQueue: 'acme-web-dev-gitlab-deliveries',
      deadLetterQueue: 'acme-web-dev-gitlab-deliveries-dlq',
      workerFunction: 'acme-web-dev-gitlab-worker',
      reconcilerFunction: 'acme-web-dev-gitlab-reconciler',
      reconcileSchedule: 'acme-web-dev-gitlab-reconcile',
      deadLetterAlarm: 'acme-web-dev-gitlab-deliveries-dead-lettered',
      buildRetriedAlarm: 'acme-web-dev-gitlab-build-retried',
    });
  });

  test('roles; the source-fetch roles are fitted to 64 characters with the longest names', () => {
    expect(roleNames(ENV)).toEqual({
      infrastructurePipeline: 'acme-web-dev-infrastructure-pipeline',
      ec2ResourceDeploy: 'acme-web-dev-ec2-resource-deploy',
      cloudTrailLogs: 'acme-web-dev-cloudtrail-logs',
      webhookLambda: 'acme-web-dev-gitlab-webhook',
      webhookWorker: 'acme-web-dev-gitlab-worker',
      reconciler: 'acme-web-dev-gitlab-reconciler',
      reconcileScheduler: 'acme-web-dev-gitlab-reconcile-scheduler',
      sourceFetchSoftware: 'acme-web-dev-gitlab-source-fetch-software',
      sourceFetchInfrastructure: 'acme-web-dev-gitlab-source-fetch-infrastructure',
    });
    const long = roleNames(LONG);
    const infra = `${LONG.project}-${LONG.env}-gitlab-source-fetch-infrastructure`;
    expect(long.sourceFetchSoftware).toBe(`${LONG.project}-${LONG.env}-gitlab-source-fetch-software`);
    expect(long.sourceFetchInfrastructure).toBe(`${infra.slice(0, IAM_ROLE_NAME_MAX - 7)}-${sha6(infra)}`);
  });

  test('NAT slots: <project>-<env>-nat-<az>, the role fitted to 64', () => {
    expect(natSlotName(ENV, 'eu-west-1a')).toBe('acme-web-dev-nat-eu-west-1a');
    expect(natSlotRoleName(ENV, 'eu-west-1a')).toBe('acme-web-dev-nat-eu-west-1a');
    const az = 'x'.repeat(48); // 65 characters in all
    const full = `acme-web-dev-nat-${az}`;
    expect(natSlotRoleName(ENV, az)).toBe(`${full.slice(0, 57)}-${sha6(full)}`);
  });
});

describe('AWS name rules', () => {
  const CHARS = 'may use only letters, digits and "-", starting and ending with a letter or digit';
  test.each([
    ['a', []],
    ['a'.repeat(32), []],
    ['a-1-B', []],
    ['a'.repeat(33), ['is 33 characters; ELB allows 1 to 32']],
    ['', ['is 0 characters; ELB allows 1 to 32', CHARS]],
    ['-a', [CHARS]],
    ['a-', [CHARS]],
    ['a_b', [CHARS]],
    ['a.b', [CHARS]],
    ['internal-alb', ['may not start with "internal-"']],
    ['x-internal-alb', []],
  ])('load balancer %j: %j', (name, problems) => {
    expect(loadBalancerNameProblems(name)).toEqual(problems);
  });

  const S3_CHARS = 'may use only a-z, 0-9, "." and "-", starting and ending with a letter or digit';
  const IP = 'may not contain ".." or look like an IP address';
  const SUFFIX = 'may not end with a reserved S3 suffix';
  test.each([
    ['abc', []],
    ['a'.repeat(63), []],
    ['a.b-c9', []],
    ['ab', ['is 2 characters; S3 allows 3 to 63']],
    ['a'.repeat(64), ['is 64 characters; S3 allows 3 to 63']],
    ['Abc', [S3_CHARS]],
    ['abc-', [S3_CHARS]],
    ['-abc', [S3_CHARS]],
    ['a_c', [S3_CHARS]],
    ['xn--abc', [S3_CHARS]],
    ['sthree-abc', [S3_CHARS]],
    ['a-xn--bc', []],
    ['a..b', [IP]],
    ['192.168.1.1', [IP]],
    ['a1.22.3.4b', [IP]],
    ['1.2.3', []],
    ['abc-s3alias', [SUFFIX]],
    ['abc--ol-s3', [SUFFIX]],
    ['abc--x-s3', [SUFFIX]],
    ['abc-s3alias-x', []],
    ['abc--ol-s3-x', []],
    ['abc--x-s3-x', []],
    ['a1.2.33.4', [IP]],
  ])('bucket %j: %j', (name, problems) => {
    expect(bucketNameProblems(name)).toEqual(problems);
  });

  test('the exported patterns and limits', () => {
    expect(S3_BUCKET_NAME.test('abc')).toBe(true);
    expect(RDS_IDENTIFIER.test('a-b1')).toBe(true);
    expect(RDS_IDENTIFIER.test('a--b')).toBe(false);
    expect(NAME_LIMITS.loadBalancer).toBe(ELB_NAME_MAX);
    expect(NAME_LIMITS.iamRole).toBe(IAM_ROLE_NAME_MAX);
  });
});

describe('names AWS would refuse (what the validator reports)', () => {
  const tooLong = (what: string, name: string, max: number) => `the ${what} name "${name}" is ${name.length} characters; AWS allows ${max}`;

  test('the longest accepted project, environment and customer names give no problem', () => {
    expect(environmentNameProblems(LONG)).toEqual([]);
    expect(customerNameProblems(LONG, LONG_CUSTOMER, customerDefaultHost(LONG_CUSTOMER, `${'d'.repeat(58)}.com`), true)).toEqual([]);
  });

  test('an environment: the longest role name is the first over 64 (project 33 fits, 34 does not)', () => {
    expect(environmentNameProblems({ project: 'p'.repeat(33), env: 'dev' })).toEqual([]);
    const p = { project: 'p'.repeat(34), env: 'dev' };
    expect(environmentNameProblems(p)).toEqual([tooLong('IAM role', roleNames(p).reconcileScheduler, 64)]);
  });

  test('an environment: every unfitted role, queue, function, schedule and alarm name is checked against its own limit', () => {
    const p = { project: 'p'.repeat(240), env: 'dev' };
    const r = roleNames(p);
    const i = ingestionNames(p);
    expect(environmentNameProblems(p)).toEqual([
      ...[r.infrastructurePipeline, r.ec2ResourceDeploy, r.cloudTrailLogs, r.webhookLambda, r.webhookWorker, r.reconciler, r.reconcileScheduler].map((n) => tooLong('IAM role', n, 64)),
      tooLong('SQS queue', i.deliveryQueue, 80),
      tooLong('SQS queue', i.deadLetterQueue, 80),
      tooLong('Lambda function', i.workerFunction, 64),
      tooLong('Lambda function', i.reconcilerFunction, 64),
      tooLong('schedule', i.reconcileSchedule, 64),
      tooLong('alarm', i.deadLetterAlarm, 255),
      tooLong('alarm', i.buildRetriedAlarm, 255),
    ]);
    // The two source-fetch roles are fitted (fitName) and never too long.
    expect(r.sourceFetchSoftware).toHaveLength(64);
  });

  test.each([
    ['each limit exactly reached', 'p'.repeat(118), 'c', 'h'.repeat(253), []],
    ['launch template over 128', 'p'.repeat(119), 'c', 'shop.example.com', ['launch template']],
    ['stack over 64', 'acme', 'c'.repeat(61), 'shop.example.com', ['stack']],
    ['host name over 253', 'acme', 'c', 'h'.repeat(254), ['host name']],
  ] as Array<[string, string, string, string, string[]]>)('a customer, %s', (_what, project, customer, host, kinds) => {
    const p = { project, env: 'dev' };
    const limits: Record<string, [string, number]> = {
      'launch template': [customerNames(p, customer).launchTemplate, 128],
      stack: [customerStackName('dev', customer), STACK_NAME_MAX],
      'host name': [host, 253],
    };
    expect(customerNameProblems(p, customer, host, false)).toEqual(kinds.map((k) => tooLong(k, ...(limits[k] as [string, number]))));
  });

  test('a customer: the stack limit is 64, and a stack name of exactly 64 characters is accepted', () => {
    expect(STACK_NAME_MAX).toBe(64);
    expect(customerNameProblems({ project: 'acme', env: 'dev' }, 'c'.repeat(60), 'shop.example.com', false)).toEqual([]);
  });

  test('a customer with a database: an RDS identifier with "--" is refused, only when there is a database', () => {
    const p = { project: 'acme', env: 'dev' };
    expect(customerNameProblems(p, 'a--b', 'a--b.example.com', true)).toEqual(['the RDS identifier "acme-dev-a--b" is not valid (a letter, then letters, digits and single hyphens)']);
    expect(customerNameProblems(p, 'a--b', 'a--b.example.com', false)).toEqual([]);
    expect(customerNameProblems(p, 'shop', 'shop.example.com', true)).toEqual([]);
  });
});

describe('customer names', () => {
  test('stack, default host, key prefixes, the instance role pattern', () => {
    expect(customerStackName('dev', 'shop')).toBe('dev-shop');
    expect(customerDefaultHost('shop', 'dev.example.com')).toBe('shop.dev.example.com');
    expect(customerSoftwarePrefix('shop')).toBe('software/shop/');
    expect(customerInfrastructurePrefix('shop')).toBe('infrastructure/shop/');
    expect(customerInstanceRolePattern(ENV)).toBe('acme-web-dev-*-web');
  });

  test('every name of a customer', () => {
    expect(customerNames(ENV, 'my-shop')).toEqual({
      base: 'acme-web-dev-my-shop',
      instanceRole: 'acme-web-dev-my-shop-web',
      instanceProfile: 'acme-web-dev-my-shop-web',
      webSecurityGroup: 'acme-web-dev-my-shop-web',
      databaseSecurityGroup: 'acme-web-dev-my-shop-db',
      launchTemplate: 'acme-web-dev-my-shop-web',
      autoScalingGroup: 'acme-web-dev-my-shop-web',
      scalingPolicy: 'acme-web-dev-my-shop-requests-per-target',
      targetGroup: 'acme-web-dev-my-shop',
      database: 'acme-web-dev-my-shop',
      databaseSubnetGroup: 'acme-web-dev-my-shop-db',
      databaseParameterGroup: 'acme-web-dev-my-shop-db',
      databaseFinalSnapshot: 'acme-web-dev-my-shop-final',
      databaseName: 'my_shop',
      appLogGroup: '/acme-web/dev/customers/my-shop/app',
      settingsParameter: '/acme-web/dev/customers/my-shop/settings',
      alarms: { unhealthyHosts: 'acme-web-dev-my-shop-unhealthy-hosts', target5xx: 'acme-web-dev-my-shop-target-5xx' },
      codeDeployApplication: 'acme-web-dev-my-shop',
      deploymentGroup: 'acme-web-dev-my-shop-web',
      deploymentConfig: 'acme-web-dev-my-shop-in-place',
      pipelineRole: 'acme-web-dev-my-shop-pipeline',
      codeDeployRole: 'acme-web-dev-my-shop-codedeploy',
      pipelineStartRole: 'acme-web-dev-my-shop-pipeline-start',
      imagePipelineRole: 'acme-web-dev-my-shop-image-pipeline',
      imagePipelineStartRole: 'acme-web-dev-my-shop-image-start',
      imageBakeProject: 'acme-web-dev-my-shop-image-bake',
      imageBakeRole: 'acme-web-dev-my-shop-image-bake',
      imageBakeLogGroup: '/acme-web/dev/customers/my-shop/image-bake',
      imageBakeSecurityGroup: 'acme-web-dev-my-shop-image-bake',
      imageRolloutProject: 'acme-web-dev-my-shop-image-rollout',
      imageRolloutRole: 'acme-web-dev-my-shop-image-rollout',
      imageRolloutLogGroup: '/acme-web/dev/customers/my-shop/image-rollout',
    });
    expect(customerNames(ENV, 'a-b-c').databaseName).toBe('a_b_c');
  });

  test('the longest names: only the names over their limit are fitted (target group 32, roles 64)', () => {
    const n = customerNames(LONG, LONG_CUSTOMER);
    const fitted = (full: string, max: number) => `${full.slice(0, max - 7)}-${sha6(full)}`;
    expect(n.base).toBe(LONG_BASE);
    expect(n.targetGroup).toBe(fitted(LONG_BASE, 32));
    expect(n.database).toBe(LONG_BASE);
    expect(n.databaseFinalSnapshot).toBe(`${LONG_BASE}-final`);
    expect(n.instanceRole).toBe(`${LONG_BASE}-web`);
    expect(n.pipelineRole).toBe(`${LONG_BASE}-pipeline`);
    expect(n.codeDeployRole).toBe(`${LONG_BASE}-codedeploy`);
    expect(n.imagePipelineStartRole).toBe(`${LONG_BASE}-image-start`);
    expect(n.imageBakeRole).toBe(`${LONG_BASE}-image-bake`);
    expect(n.pipelineStartRole).toBe(fitted(`${LONG_BASE}-pipeline-start`, 64));
    expect(n.imagePipelineRole).toBe(fitted(`${LONG_BASE}-image-pipeline`, 64));
    expect(n.imageRolloutRole).toBe(fitted(`${LONG_BASE}-image-rollout`, 64));
    expect(n.imageRolloutProject).toBe(`${LONG_BASE}-image-rollout`);
    expect(n.instanceRole).toMatch(new RegExp(`^${customerInstanceRolePattern(LONG).replace('*', '.*')}$`));
  });

  test.each([
    ['main', 'main'],
    ['release-1.2', 'release-1.2'],
    ['Feature.X-9', 'Feature.X-9'],
    ['feature/x', `feature-x-${sha6('feature/x')}`],
    ['a_b/c d', `a-b-c-d-${sha6('a_b/c d')}`],
  ])('branch %j as a name part: %j', (branch, part) => {
    expect(branchNamePart(branch)).toBe(part);
  });
});

describe('customer pipelines', () => {
  test('software: a 20-character artifact folder first, hashed over project, environment, customer and branch', () => {
    const h = sha(['acme-web', 'dev', 'shop', 'feature/x'].join('\n'));
    const folder = `shop-${h}`.slice(0, 20);
    expect(customerPipelineNames(ENV, 'shop', 'feature/x')).toEqual({
      pipeline: `${folder}-dev-feature-x-${sha6('feature/x')}`,
      artifactFolder: folder,
      sourceRule: `acme-web-dev-shop-feature-x-${sha6('feature/x')}-source`,
      sourceKey: 'software/shop/feature/x.zip',
    });
  });

  test('image: "image" in the hash, the pipeline and the rule; infrastructure/ keys', () => {
    const h = sha(['image', 'acme-web', 'dev', 'shop', 'main'].join('\n'));
    const folder = `shop-${h}`.slice(0, 20);
    expect(customerImagePipelineNames(ENV, 'shop', 'main')).toEqual({
      pipeline: `${folder}-dev-image-main`,
      artifactFolder: folder,
      sourceRule: 'acme-web-dev-shop-main-image-source',
      sourceKey: 'infrastructure/shop/main.zip',
    });
  });

  test('a long customer keeps 11 characters in the folder; long branches are fitted (pipeline 100, rule 64)', () => {
    const branch = 'b'.repeat(90);
    const sw = customerPipelineNames(LONG, LONG_CUSTOMER, branch);
    expect(sw.artifactFolder).toBe(`${'c'.repeat(11)}-${sha([LONG.project, LONG.env, LONG_CUSTOMER, branch].join('\n')).slice(0, 8)}`);
    const pipeline = `${sw.artifactFolder}-${LONG.env}-${branch}`;
    expect(sw.pipeline).toBe(`${pipeline.slice(0, 93)}-${sha6(pipeline)}`);
    const rule = `${LONG_BASE}-${branch}-source`;
    expect(sw.sourceRule).toBe(`${rule.slice(0, 57)}-${sha6(rule)}`);
    const img = customerImagePipelineNames(LONG, LONG_CUSTOMER, branch);
    expect(img.artifactFolder).toBe(`${'c'.repeat(11)}-${sha(['image', LONG.project, LONG.env, LONG_CUSTOMER, branch].join('\n')).slice(0, 8)}`);
    const imgPipeline = `${img.artifactFolder}-${LONG.env}-image-${branch}`;
    expect(img.pipeline).toBe(`${imgPipeline.slice(0, 93)}-${sha6(imgPipeline)}`);
    const imgRule = `${LONG_BASE}-${branch}-image-source`;
    expect(img.sourceRule).toBe(`${imgRule.slice(0, 57)}-${sha6(imgRule)}`);
  });

  test('property: every artifact folder has exactly 20 characters, so none is a prefix of another', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,19}$/), fc.stringMatching(/^[a-z0-9/._-]{1,40}$/), (customer, branch) => {
        expect(customerPipelineNames(ENV, customer, branch).artifactFolder).toHaveLength(PIPELINE_ARTIFACT_FOLDER_LENGTH);
        expect(customerImagePipelineNames(ENV, customer, branch).artifactFolder).toHaveLength(PIPELINE_ARTIFACT_FOLDER_LENGTH);
        expect(customerImagePipelineNames(ENV, customer, branch).artifactFolder).not.toBe(customerPipelineNames(ENV, customer, branch).artifactFolder);
      }),
    );
  });
});
