/**
 * The platform's one input: the environment config. Shape rules live in the zod schema below;
 * rules that look across fields (CIDR overlap, AZ-in-region, the IP plan fitting, names that
 * S3 and IAM accept) live in validate.ts. Both report every problem at once.
 */
import { z } from 'zod';
import { CUSTOMER_NAME, ENV_NAME, GITLAB_PROJECT_PATH, REPOSITORY_KINDS, RepositoryKind } from '../../../lambdas/shared/names';

export { CUSTOMER_NAME, ENV_NAME, GITLAB_PROJECT_PATH, REPOSITORY_KINDS };
export type { RepositoryKind };

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export const NAT_MODES = ['shared', 'per-az'] as const;
export const WEBHOOK_AUTH_MODES = ['token', 'signature', 'token-and-signature'] as const;
/** Graviton (arm64) EC2 instance types: a "g" after the generation digit, e.g. t4g.nano, m7g.large, c7gn.xlarge. */
export const GRAVITON_INSTANCE_TYPE = /^[a-z]+\d+g[a-z]*\.[a-z0-9]+$/;

/** Tag keys the platform sets itself through the provider's default_tags. */
export const RESERVED_TAG_KEYS = ['project', 'environment', 'managed-by', 'customer'] as const;

/** Project names: 2-20 of a-z, 0-9 and single "-" (RDS identifiers allow no "--"), starting with a letter. */
export const PROJECT_NAME = /^[a-z](?:[a-z0-9]|-(?!-)){0,18}[a-z0-9]$/;

const projectName = z
  .string()
  .regex(PROJECT_NAME, 'expected 2-20 characters of a-z, 0-9 and "-", starting with a letter, not ending with "-" and without "--"')
  .describe('Project name, the first part of every resource name.');

const envNameSchema = z
  .string()
  .regex(ENV_NAME, 'expected 2-10 characters of a-z and 0-9, starting with a letter (it becomes part of S3 and IAM names)')
  .refine((n) => n !== 'bootstrap', { message: '"bootstrap" is the name of the state-bucket stack; choose another environment name' })
  .describe('Environment name, e.g. dev, staging, prod. Also the stack name.');

const accountId = z
  .string({ error: 'expected a 12-digit AWS account id as a quoted string (YAML drops leading zeros of numbers)' })
  .regex(/^\d{12}$/, 'expected a 12-digit AWS account id as a quoted string')
  .describe('AWS account id (12 digits, quoted).');

/** An AWS region name, e.g. eu-west-1. */
export const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

const region = z
  .string()
  .regex(AWS_REGION, 'expected an AWS region name such as eu-west-1')
  .describe('AWS region, e.g. eu-west-1.');

const roleArn = z
  .string()
  .regex(/^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'expected an IAM role ARN (arn:aws:iam::<account>:role/<name>)');

const cidr = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'expected an IPv4 CIDR block such as 10.10.0.0/16');

const prefixLength = z.number().int().min(16).max(28);

const days = (what: string) => z.number().int().min(1, `${what} must be at least 1 day`).max(3650, `${what} must be at most 3650 days`);

const tagMap = z
  .record(
    z
      .string()
      .min(1)
      .max(128, 'tag keys may have at most 128 characters')
      .regex(/^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, 'tag keys use letters, digits, spaces and _.:/=+-@ and may not start with "aws:"'),
    z.string().max(256, 'tag values may have at most 256 characters').regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u, 'tag values use letters, digits, spaces and _.:/=+-@'),
  )
  .describe('Extra tags for every resource of the environment. project, environment, managed-by and customer are reserved.');

export const networkSchema = z
  .object({
    vpcCidr: cidr.describe("VPC CIDR block: a network address with a prefix of /16 to /20, e.g. 10.10.0.0/16; must not overlap another environment's VPC."),
    subnetPrefixLength: z
      .object({
        public: prefixLength.optional().describe('Per-AZ public subnet prefix length. Default: VPC prefix + 6 (/22 in a /16).'),
        natted: prefixLength.optional().describe('Per-AZ natted subnet prefix length. Default: VPC prefix + 4 (/20 in a /16).'),
        private: prefixLength.optional().describe('Per-AZ private subnet prefix length. Default: VPC prefix + 5 (/21 in a /16).'),
      })
      .strict()
      .default({})
      .describe('Per-AZ subnet sizes by tier. Each tier supernet holds 4 such subnets (3 AZs + 1 spare).'),
    nat: z
      .object({
        mode: z.enum(NAT_MODES).optional().describe('"per-az" (one NAT instance per AZ) or "shared" (one for all). Default: per-az when production, else shared.'),
        instanceType: z
          .string()
          .regex(GRAVITON_INSTANCE_TYPE, 'expected an arm64 (Graviton) instance type such as t4g.nano: the NAT AMI is Amazon Linux 2023 arm64')
          .default('t4g.nano')
          .describe('NAT instance type, arm64. Default t4g.nano.'),
      })
      .strict()
      .default({ instanceType: 't4g.nano' }),
    flowLogs: z.boolean().default(true).describe('VPC flow logs to the artifact bucket under logs/vpc-flow/. Default true.'),
  })
  .strict();

export const securitySchema = z
  .object({
    kmsDeletionWindowDays: z.number().int().min(7).max(30).optional().describe('KMS key deletion window, 7-30 days. Default 30 in production, 7 elsewhere.'),
    cloudWatchLogRetentionDays: z
      .number()
      .int()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), { message: `expected one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(', ')}` })
      .default(3)
      .describe('Retention of every CloudWatch log group (CloudTrail, Lambda, CodeBuild, API access logs). Default 3.'),
    s3LogExpirationDays: days('s3LogExpirationDays').default(1).describe('Days before log objects under logs/ in the artifact bucket expire. Default 1.'),
    noncurrentVersionExpirationDays: days('noncurrentVersionExpirationDays').default(30).describe('Days before noncurrent object versions in the artifact bucket expire. Default 30.'),
  })
  .strict();

/** An e-mail address (simple form: local@domain.tld). */
export const EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,63}$/;
/** A lower-case DNS domain without scheme, trailing dot or wildcard, e.g. dev.example.com. */
export const DNS_DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** A Route 53 hosted zone id, e.g. Z0123456789ABCDEFGHIJ. */
export const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
/** An ACM certificate ARN; the fourth field is the region. */
export const ACM_CERTIFICATE_ARN = /^arn:aws(-[a-z]+)*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;

/** Most load-balancer shards of one environment (the default ALB-per-region quota). */
export const MAX_SHARDS = 50;
/** ALB quotas (AWS "Quotas for your Application Load Balancers"): target groups per ALB cannot be raised. */
export const ALB_DEFAULT_QUOTAS = { targetGroupsPerAlb: 100, rulesPerAlb: 100, certificatesPerAlb: 25, albsPerRegion: 50 } as const;

export const ingressSchema = z
  .object({
    domain: z
      .string()
      .max(62, 'at most 62 characters: it is the first name of the ACM certificate (64 at most) and *.<domain> its second')
      .regex(DNS_DOMAIN, 'expected a lower-case DNS domain such as dev.example.com (no scheme, no trailing dot, no wildcard)')
      .describe('DNS domain of the environment; customers get <name>.<domain>.'),
    hostedZoneId: z
      .string()
      .regex(HOSTED_ZONE_ID, 'expected a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ')
      .optional()
      .describe('Route 53 hosted zone for DNS validation of a new ACM certificate. Give this or certificateArn.'),
    certificateArn: z
      .string()
      .regex(ACM_CERTIFICATE_ARN, 'expected an ACM certificate ARN')
      .optional()
      .describe('An existing ACM certificate for <domain> and *.<domain> in the same region. Give this or hostedZoneId.'),
    ipv6: z.boolean().default(false).describe('Dualstack ALB (IPv4 and IPv6). Default false.'),
    idleTimeoutSeconds: z.number().int().min(1).max(4000).default(60).describe('ALB idle timeout, 1-4000 seconds. Default 60.'),
    accessLogRetentionDays: days('accessLogRetentionDays').default(30).describe('Days before ALB access logs expire. Default 30.'),
    shards: z
      .number()
      .int()
      .min(1)
      .max(MAX_SHARDS)
      .default(1)
      .describe(`Load-balancer shards: ALBs of the environment, each with the full public entry; customers are pinned to one by their shard field. 1-${MAX_SHARDS}. Default 1.`),
    rulesPerShard: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(ALB_DEFAULT_QUOTAS.rulesPerAlb)
      .describe(`Listener rules one ALB may take (the account's "Rules per Application Load Balancer" quota); one per customer. Default ${ALB_DEFAULT_QUOTAS.rulesPerAlb}.`),
    certificatesPerShard: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(ALB_DEFAULT_QUOTAS.certificatesPerAlb)
      .describe(`Extra listener certificates one ALB may take (quota "Certificates per Application Load Balancer"); one per custom domain. Default ${ALB_DEFAULT_QUOTAS.certificatesPerAlb}.`),
    albsPerRegion: z
      .number()
      .int()
      .min(1)
      .max(10000)
      .default(ALB_DEFAULT_QUOTAS.albsPerRegion)
      .describe(`The account's "Application Load Balancers per Region" quota; the shards of every environment in the same account and region count against it (the smallest value given among them applies). Default ${ALB_DEFAULT_QUOTAS.albsPerRegion}.`),
  })
  .strict();

export const environmentSchema = z
  .object({
    name: envNameSchema,
    account: accountId,
    region,
    assumeRoleArn: roleArn.optional().describe('Role the AWS provider assumes for this environment. Default: none (ambient credentials).'),
    production: z.boolean().default(false).describe('Marks a production environment: NAT per AZ, long KMS deletion window, ALB deletion protection. Default false.'),
    availabilityZones: z
      .array(z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d[a-z]$/, 'expected an availability-zone name such as eu-west-1a'))
      .length(3, 'expected exactly 3 availability zones')
      .describe('Exactly 3 different AZs of the region, e.g. [eu-west-1a, eu-west-1b, eu-west-1c]; listed so synth and plan need no AWS call.'),
    network: networkSchema.describe('The VPC, its subnets, NAT and flow logs.'),
    security: securitySchema.default({ cloudWatchLogRetentionDays: 3, s3LogExpirationDays: 1, noncurrentVersionExpirationDays: 30 }),
    ingress: ingressSchema.describe('The public ALB: domain, certificate, IPv6, idle timeout, access logs.'),
    tags: tagMap.default({}),
    alarms: z
      .object({
        emails: z
          .array(z.string().regex(EMAIL, 'expected an e-mail address such as ops@example.com'))
          .max(20, 'at most 20 e-mail subscribers; use a mailing list')
          .default([])
          .describe('E-mail addresses subscribed to the environment alarm topic (each confirms by mail). Default none.'),
      })
      .strict()
      .default({ emails: [] })
      .describe("The environment's alarm topic (SNS, KMS-encrypted): every customer alarm publishes to it."),
  })
  .strict();

/** EC2 instance types, e.g. t4g.small or m7i.large; a "g" after the generation digit means Graviton (arm64). */
export const EC2_INSTANCE_TYPE = /^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/;
/** RDS instance classes, e.g. db.t4g.micro. */
export const RDS_INSTANCE_CLASS = /^db\.[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$/;
export const DATABASE_ENGINES = ['postgres', 'mysql'] as const;
/** Listener rule priorities the platform computes for customers (below 1000 stays free for the platform). */
export const CUSTOMER_RULE_PRIORITY_MIN = 1000;
export const CUSTOMER_RULE_PRIORITY_MAX = 50000;

const webSettings = {
  instanceType: z
    .string()
    .regex(EC2_INSTANCE_TYPE, 'expected an EC2 instance type such as t4g.small (arm64) or t3.small (x86_64)')
    .describe('EC2 instance type of the web servers; a Graviton type (t4g, m7g, ...) gets an arm64 AMI, others x86_64. Default t4g.small.'),
  minCapacity: z.number().int().min(1, 'at least 1: a customer with no web server has nothing for the ALB to route to').max(100).describe('Fewest web servers. Default 1, 2 in production.'),
  desiredCapacity: z.number().int().min(1).max(100).describe('Web servers at first; scaling moves it between min and max. Default: minCapacity.'),
  maxCapacity: z.number().int().min(1).max(100).describe('Most web servers. Default 2, 4 in production.'),
  appPort: z.number().int().min(1024, 'expected 1024-65535: the app runs unprivileged').max(65535).describe('Port the app listens on (HTTP). Default 8080.'),
  healthCheckPath: z
    .string()
    .max(1024)
    .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, 'expected a URL path starting with "/" such as /healthz')
    .describe('Path the ALB checks on the app port. Default /healthz.'),
  healthCheckMatcher: z
    .string()
    .regex(/^[1-5]\d\d(-[1-5]\d\d)?(,[1-5]\d\d(-[1-5]\d\d)?)*$/, 'expected HTTP codes such as "200", "200,204" or "200-299"')
    .describe('HTTP codes that count as healthy. Default "200".'),
  rootVolumeGiB: z.number().int().min(8, 'at least 8 GiB: the Amazon Linux 2023 AMI needs it').max(1024).describe('Encrypted gp3 root volume size. Default 20.'),
  requestsPerTarget: z
    .number()
    .int()
    .min(10)
    .max(100000)
    .describe('Target tracking: ALB requests per web server per minute that scaling aims at. Default 1000.'),
};

const databaseSettings = {
  version: z
    .string()
    .regex(/^\d+(\.\d+){0,2}$/, 'expected an engine version such as "16" or "8.0"')
    .describe('Engine version; a major version lets RDS pick and upgrade the minor. Default "16" (postgres) or "8.0" (mysql).'),
  instanceClass: z.string().regex(RDS_INSTANCE_CLASS, 'expected an RDS instance class such as db.t4g.micro').describe('RDS instance class. Default db.t4g.micro.'),
  storageGiB: z.number().int().min(20, 'at least 20 GiB (gp3)').max(65536).describe('Allocated gp3 storage. Default 20.'),
  backupRetentionDays: z.number().int().min(1).max(35).describe('Automated backup retention, 1-35 days (at least 7 in production). Default 1, 7 in production.'),
};

export const customerWebSchema = z.object(webSettings).partial().strict();
export const customerDatabaseSchema = z
  .object({ engine: z.enum(DATABASE_ENGINES).default('postgres').describe('"postgres" (default) or "mysql".'), ...databaseSettings })
  .partial({ version: true, instanceClass: true, storageGiB: true, backupRetentionDays: true })
  .strict();

export const customDomainSchema = z
  .object({
    name: z
      .string()
      .max(64, 'at most 64 characters: it is the first name of its ACM certificate')
      .regex(DNS_DOMAIN, 'expected a lower-case DNS name such as www.shop.example (no scheme, no trailing dot, no wildcard)')
      .describe('A host name of the customer outside the environment domain.'),
    hostedZoneId: z
      .string()
      .regex(HOSTED_ZONE_ID, 'expected a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ')
      .optional()
      .describe('Route 53 zone of the name: the platform validates a new ACM certificate and writes the alias record. Give this or certificateArn.'),
    certificateArn: z
      .string()
      .regex(ACM_CERTIFICATE_ARN, 'expected an ACM certificate ARN')
      .optional()
      .describe("An existing ACM certificate for the name, in the environment's region; DNS is then the customer's to point at the ALB. Give this or hostedZoneId."),
  })
  .strict();

const customDomains = z.array(customDomainSchema).max(4, 'at most 4 custom domains: a listener rule takes 5 host names, one is <name>.<domain>');

export const customerSchema = z
  .object({
    name: z
      .string()
      .regex(CUSTOMER_NAME, 'expected 2-20 characters of a-z, 0-9 and "-", starting with a letter, not ending with "-" and without "--" (it is a DNS label and part of resource names)')
      .describe('Customer name: its host <name>.<environment domain>, its stacks <env>-<name>, part of its resource names.'),
    domains: customDomains.default([]).describe('Extra host names with their certificates, in every environment of the customer (per environment: environments.<env>.domains). A name may serve one environment only. Default none.'),
    rulePriority: z
      .number()
      .int()
      .min(CUSTOMER_RULE_PRIORITY_MIN)
      .max(CUSTOMER_RULE_PRIORITY_MAX)
      .optional()
      .describe('Listener rule priority, 1000-50000. Default: computed from the name (stable); set it only when two names collide.'),
    shard: z
      .number()
      .int()
      .min(0)
      .max(MAX_SHARDS - 1)
      .optional()
      .describe('Load-balancer shard (0-based) of the customer in every environment (per environment: environments.<env>.shard); below the environment\'s ingress.shards. Never changes by itself: `npm run customers -- --propose <name> --env <env>` proposes one for a new customer. Default 0.'),
    web: customerWebSchema.default({}).describe('Web tier settings for every environment of the customer.'),
    database: customerDatabaseSchema.optional().describe('A database (RDS) for the customer. Default none.'),
    environments: z
      .record(
        z.string().regex(ENV_NAME, 'expected an environment name'),
        z
          .object({
            shard: z.number().int().min(0).max(MAX_SHARDS - 1).optional().describe('Load-balancer shard in this environment, instead of the top-level shard.'),
            web: customerWebSchema.optional().describe('Web tier settings for this environment.'),
            domains: customDomains.optional().describe('Custom domains in this environment, instead of the top-level list.'),
            database: z.object(databaseSettings).partial().strict().optional().describe('Database settings for this environment.'),
          })
          .strict(),
      )
      .default({})
      .describe('Per-environment overrides, by environment name. Default none.'),
  })
  .strict();

export const repositorySchema = z
  .object({
    path: z
      .string()
      .regex(GITLAB_PROJECT_PATH, 'expected a GitLab project path such as group/subgroup/project')
      .describe('GitLab project path (path_with_namespace).'),
    kind: z.enum(REPOSITORY_KINDS).describe('"software" (application code) or "infrastructure" (customer infrastructure code).'),
    customer: z
      .string()
      .regex(CUSTOMER_NAME, 'expected a customer name: 2-20 characters of a-z, 0-9 and single "-"')
      .describe('Customer the repository belongs to (a name under customers:).'),
    branches: z
      .record(z.string().min(1).max(255).regex(/^(?!\/)(?!.*\/\/)(?!.*\.\.)[^\s~^:?*[\\]+(?<![/.])$/, 'expected a git branch name'), envNameSchema)
      .refine((m) => Object.keys(m).length > 0, { message: 'map at least one branch to an environment' })
      .describe('Which branch deploys to which environment, e.g. { main: prod, develop: dev }.'),
  })
  .strict();

export const gitlabSchema = z
  .object({
    url: z
      .string()
      .regex(/^https:\/\/[a-z0-9.-]+(:\d+)?(\/[^\s]*)?$/, 'expected an https:// URL such as https://gitlab.com')
      .default('https://gitlab.com')
      .describe('GitLab base URL (gitlab.com or self-managed). Default https://gitlab.com.'),
    authMode: z
      .enum(WEBHOOK_AUTH_MODES)
      .default('token')
      .describe('How deliveries are authenticated: "token" (X-Gitlab-Token), "signature" (Standard Webhooks signature) or "token-and-signature". Default token.'),
    tagPushes: z.boolean().default(false).describe('Build on tag pushes too (routed by tag name like branches). Default false.'),
    webhookReservedConcurrency: z
      .number()
      .int()
      .min(1)
      .max(100)
      .nullable()
      .default(20)
      .describe('Reserved concurrency of the webhook Lambda, 1-100; null reserves none (accounts whose Lambda concurrency quota is still 10). Default 20: a burst of 200 pushes in 10 s needs about 5 (see lambdas/gitlab-webhook/README.md, "Sizing").'),
    reconcileIntervalMinutes: z
      .number()
      .int()
      .min(5)
      .max(1440)
      .default(10)
      .describe('Minutes between two runs of the reconciler, which builds any routed branch whose GitLab head differs from its last zip (missed deliveries, a disabled hook). 5-1440. Default 10.'),
    repositories: z.array(repositorySchema).default([]).describe('Repositories whose pushes are ingested.'),
  })
  .strict();

export const platformConfigSchema = z
  .object({
    $schema: z.string().optional().describe('Path of the JSON Schema, for editors.'),
    project: projectName,
    customers: z.array(customerSchema).default([]).describe('The customers: each gets web servers, routing and an optional database in every environment its software branches map to.'),
    gitlab: gitlabSchema.default({ url: 'https://gitlab.com', authMode: 'token', tagPushes: false, webhookReservedConcurrency: 20, reconcileIntervalMinutes: 10, repositories: [] }),
    environments: z.array(environmentSchema).min(1, 'expected at least one environment').describe('The environments, in deploy order. Each becomes a stack named after it.'),
  })
  .strict();

/** The config file as written (defaults not yet applied). */
export type PlatformConfigInput = z.input<typeof platformConfigSchema>;
/** The config after shape validation, with zod defaults applied. */
export type ParsedConfig = z.output<typeof platformConfigSchema>;
export type ParsedEnvironment = ParsedConfig['environments'][number];
export type Repository = z.output<typeof repositorySchema>;
export type NatMode = (typeof NAT_MODES)[number];
export type WebhookAuthMode = (typeof WEBHOOK_AUTH_MODES)[number];
export type DatabaseEngine = (typeof DATABASE_ENGINES)[number];
export type ParsedCustomer = z.output<typeof customerSchema>;
