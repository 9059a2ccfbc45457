/**
 * The platform's one input: the environment config. Shape rules live in the zod schema below;
 * rules that look across fields (CIDR overlap, AZ-in-region, the IP plan fitting, names that
 * S3 and IAM accept) live in validate.ts. Both report every problem at once.
 */
import { z } from 'zod';

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

export const NAT_MODES = ['shared', 'per-az'] as const;
export const REPOSITORY_KINDS = ['software', 'infrastructure'] as const;
export const WEBHOOK_AUTH_MODES = ['token', 'signature', 'token-and-signature'] as const;
/** Tag keys the platform sets itself through the provider's default_tags. */
export const RESERVED_TAG_KEYS = ['project', 'environment', 'managed-by'] as const;

const projectName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,18}[a-z0-9]$/, 'expected 2-20 characters of a-z, 0-9 and "-", starting with a letter and not ending with "-"')
  .describe('Project name, the first part of every resource name.');

const envNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9]{1,9}$/, 'expected 2-10 characters of a-z and 0-9, starting with a letter (it becomes part of S3 and IAM names)')
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
  .describe('Extra tags for every resource of the environment.');

export const networkSchema = z
  .object({
    vpcCidr: cidr.describe('VPC CIDR block, /16 to /20. Default prefix /16.'),
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
          .regex(/^[a-z]+\d+g[a-z]*\.[a-z0-9]+$/, 'expected an arm64 (Graviton) instance type such as t4g.nano: the NAT AMI is Amazon Linux 2023 arm64')
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

/** A lower-case DNS domain without scheme, trailing dot or wildcard, e.g. dev.example.com. */
export const DNS_DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
/** A Route 53 hosted zone id, e.g. Z0123456789ABCDEFGHIJ. */
export const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
/** An ACM certificate ARN; the fourth field is the region. */
export const ACM_CERTIFICATE_ARN = /^arn:aws(-[a-z]+)*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;

export const ingressSchema = z
  .object({
    domain: z
      .string()
      .max(200)
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
      .describe('Exactly 3 AZ names in the region, listed so synth and plan need no AWS call.'),
    network: networkSchema,
    security: securitySchema.default({ cloudWatchLogRetentionDays: 3, s3LogExpirationDays: 1, noncurrentVersionExpirationDays: 30 }),
    ingress: ingressSchema,
    tags: tagMap.default({}),
  })
  .strict();

export const repositorySchema = z
  .object({
    path: z
      .string()
      .regex(/^[A-Za-z0-9_.][A-Za-z0-9_.-]*(\/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+$/, 'expected a GitLab project path such as group/subgroup/project')
      .describe('GitLab project path (path_with_namespace).'),
    kind: z.enum(REPOSITORY_KINDS).describe('"software" (application code) or "infrastructure" (customer infrastructure code).'),
    customer: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/, 'expected 2-32 characters of a-z, 0-9 and "-" (it becomes part of S3 keys)')
      .describe('Customer the repository belongs to.'),
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
      .default(5)
      .describe('Reserved concurrency of the webhook Lambda, 1-100; null reserves none (accounts whose Lambda concurrency quota is still 10). Default 5.'),
    repositories: z.array(repositorySchema).default([]).describe('Repositories whose pushes are ingested.'),
  })
  .strict();

export const platformConfigSchema = z
  .object({
    $schema: z.string().optional().describe('Path of the JSON Schema, for editors.'),
    project: projectName,
    gitlab: gitlabSchema.default({ url: 'https://gitlab.com', authMode: 'token', tagPushes: false, webhookReservedConcurrency: 5, repositories: [] }),
    environments: z.array(environmentSchema).min(1, 'expected at least one environment'),
  })
  .strict();

/** The config file as written (defaults not yet applied). */
export type PlatformConfigInput = z.input<typeof platformConfigSchema>;
/** The config after shape validation, with zod defaults applied. */
export type ParsedConfig = z.output<typeof platformConfigSchema>;
export type ParsedEnvironment = ParsedConfig['environments'][number];
export type Repository = z.output<typeof repositorySchema>;
export type NatMode = (typeof NAT_MODES)[number];
export type RepositoryKind = (typeof REPOSITORY_KINDS)[number];
export type WebhookAuthMode = (typeof WEBHOOK_AUTH_MODES)[number];
