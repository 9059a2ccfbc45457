import { Construct } from 'constructs';
import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import { AutoscalingPolicy } from '@cdktf/provider-aws/lib/autoscaling-policy';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Fn, ITerraformDependable, Token } from 'cdktf';
import { CUSTOMER_NAME, EC2_INSTANCE_TYPE, LOG_RETENTION_DAYS } from '../../model/config/schema';
import { WebTierSettings, architectureOf } from '../../model/customers';
import { PolicyDocument, Statement, allOf, iamArn, partitionOf, policyDocument, policyJson, regionalArn, s3Arn, serviceTrust } from '../../model/iam-policy';
import { bucketNameProblems, customerNames, customerSoftwarePrefix } from '../../model/naming';
import { EnvironmentExports } from '../environment-exports';
import { kmsActionsFor, kmsViaService, s3ListPrefix, s3ObjectAccess } from '../iam/grants';
import { NamingScope } from '../naming-scope';
import { placeholderFileFor, terraformString, webUserData } from './web-user-data';

/** Amazon Linux 2023 of an architecture, resolved by EC2 at launch: no data source, so plans stay offline. */
export function webServerImage(architecture: 'arm64' | 'x86_64'): string {
  return `resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${architecture}`;
}

/** Seconds after launch before the ELB health check counts (boot, user data, placeholder or app start). */
export const HEALTH_CHECK_GRACE_SECONDS = 300;
/** Seconds a new instance is left out of the group's aggregate metrics (scaling and refreshes). */
export const INSTANCE_WARMUP_SECONDS = 300;
/** Group metrics collected at one-minute granularity (dashboards; the rollout issue watches InService). */
export const ASG_METRICS = [
  'GroupMinSize',
  'GroupMaxSize',
  'GroupDesiredCapacity',
  'GroupInServiceInstances',
  'GroupPendingInstances',
  'GroupStandbyInstances',
  'GroupTerminatingInstances',
  'GroupTotalInstances',
] as const;
/** Scale-in removes instances of older launch template versions first, then the oldest. */
export const TERMINATION_POLICIES = ['OldestLaunchTemplate', 'OldestInstance'] as const;

/** The customer's database, as its web servers see it. */
export interface CustomerWebTierDatabase {
  /** Endpoint host name (usually a token of the database construct). */
  readonly host: string;
  /** Port, 1-65535 (may be a token). */
  readonly port: number;
  /** Database name inside the engine (may be a token). */
  readonly name: string;
  /** ARN of the Secrets Manager secret with the credentials; the role may read exactly this secret. */
  readonly secretArn: string;
}

export interface CustomerWebTierProps {
  /** Customer name (2-20 characters of a-z, 0-9 and single "-"): names, tags, the release prefix. */
  readonly customer: string;
  /** The customer's resolved web tier settings in this environment. */
  readonly settings: WebTierSettings;
  /** What the environment gives its customers (VPC, subnets, ALB, key, bucket, alarm topic). */
  readonly environment: EnvironmentExports;
  /** ARN of the customer's target group; the auto scaling group registers its instances there. */
  readonly targetGroupArn: string;
  /** `targetgroup/<name>/<id>`: the alarms' TargetGroup dimension and part of the scaling resource label. */
  readonly targetGroupArnSuffix: string;
  /** Retention of the app log group, one of CloudWatch's periods (1, 3, 5, 7, 14, 30, ...). */
  readonly logRetentionDays: number;
  /**
   * The customer's database: its connection settings go into the settings file, and the role may
   * read exactly its secret. @default no database
   */
  readonly database?: CustomerWebTierDatabase;
  /**
   * What attaches the target group to the ALB (the listener rule): ALBRequestCountPerTarget exists
   * only for a target group behind a load balancer, so the scaling policy depends on it. @default none
   */
  readonly routedBy?: readonly ITerraformDependable[];
  /**
   * Folders of the customer's pipeline artifacts in the artifact bucket (`customerPipelineNames().artifactFolder`):
   * the CodeDeploy agent downloads each release from there with the instance role. @default none
   */
  readonly pipelineArtifactFolders?: readonly string[];
  /** Target 5XX responses per minute that, three minutes in a row, raise the 5XX alarm. @default 10 */
  readonly target5xxPerMinute?: number;
  /**
   * Extra tags for the instances, volumes and the auto scaling group, which provider default_tags do
   * not reach; `Name`, `customer`, `project` and `environment` are set here and may not be given.
   * @default none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * The customer has an image pipeline, which owns the image after the first apply: Terraform
   * creates the template once (image from the SSM parameter) and then ignores the template's
   * `image_id` and the group's launch template version, which the pipeline's rollouts (and
   * `npm run rollback -- --image`) set. Without this, the plan after every rollout would show drift
   * and an apply would put the group back on an old version. @default false
   */
  readonly imageManagedByPipeline?: boolean;
}

/** What Terraform ignores on the launch template when an image pipeline owns the image. */
export const PIPELINE_OWNED_TEMPLATE_ATTRIBUTES = ['image_id'] as const;
/** What Terraform ignores on the group: the capacity (target tracking) and, with an image pipeline, the template version. */
export const ASG_IGNORED_ATTRIBUTES = ['desired_capacity'] as const;
export const PIPELINE_OWNED_ASG_ATTRIBUTES = ['launch_template[0].version'] as const;

const RESERVED_TAGS = ['Name', 'customer', 'project', 'environment'] as const;

/**
 * The web servers of one customer in one environment, behind the environment's ALB:
 *
 * - a security group: ingress only from the ALB's security group on the app port, egress only HTTPS;
 * - an instance role and profile of its own: the customer's releases, its log group, its metrics
 *   namespace, its database secret, Session Manager; nothing of other customers;
 * - the app log group (environment key, retention);
 * - a launch template (Amazon Linux 2023 of the instance type's architecture, IMDSv2 only, no key
 *   pair, no public IP, encrypted gp3 root volume) whose user data writes the settings file and
 *   starts a placeholder server until the first release;
 * - an auto scaling group over the natted subnets, registered in the target group, replacing
 *   instances that fail the ELB health check, at an explicit launch template version;
 * - target tracking on ALB requests per target; alarms on unhealthy hosts and target 5XX.
 */
export class CustomerWebTier extends Construct {
  /** The web servers' security group. */
  readonly securityGroup: SecurityGroup;
  /** Its id: the database construct adds its web → database egress rule to it. */
  readonly securityGroupId: string;
  /** The instance role. */
  readonly role: IamRole;
  /** Literal ARN of the instance role. */
  readonly roleArn: string;
  /** The instance profile of the role. */
  readonly instanceProfile: IamInstanceProfile;
  /** The role's inline policy documents as deployed, by policy name (for IAM simulation). */
  readonly documents: Readonly<Record<string, PolicyDocument>>;
  /** The app log group. */
  readonly logGroup: CloudwatchLogGroup;
  /** The launch template; the auto scaling group uses its latest version. */
  readonly launchTemplate: LaunchTemplate;
  /** The auto scaling group. */
  readonly autoScalingGroup: AutoscalingGroup;
  /** The target tracking policy (ALB requests per target). */
  readonly scalingPolicy: AutoscalingPolicy;
  /** The alarms, by purpose (the pipeline's automatic rollback watches them). */
  readonly alarms: { readonly unhealthyHosts: CloudwatchMetricAlarm; readonly target5xx: CloudwatchMetricAlarm };

  constructor(scope: Construct, id: string, props: CustomerWebTierProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    validate(props, ns);

    const { customer, settings, environment: env } = props;
    const names = customerNames(ns, customer);
    const releasePrefix = customerSoftwarePrefix(customer);
    const metricsNamespace = `${ns.project}/${ns.env}/${customer}`;
    const ownTags = { ...(props.tags ?? {}), project: ns.project, environment: ns.env, customer };

    // Security group: the ALB is the only way in; out only HTTPS.
    this.securityGroup = new SecurityGroup(this, 'sg', {
      name: names.webSecurityGroup,
      description: `Web servers of ${customer} in ${ns.env}: app port from the ALB only, HTTPS out`,
      vpcId: env.vpcId,
      tags: { Name: names.webSecurityGroup, customer },
    });
    this.securityGroupId = this.securityGroup.id;
    new VpcSecurityGroupIngressRule(this, 'sg-in-alb', {
      securityGroupId: this.securityGroup.id,
      description: `App port ${settings.appPort} from the environment ALB only`,
      ipProtocol: 'tcp',
      fromPort: settings.appPort,
      toPort: settings.appPort,
      referencedSecurityGroupId: env.albSecurityGroupId,
      tags: { customer },
    });
    new VpcSecurityGroupEgressRule(this, 'sg-out-https', {
      securityGroupId: this.securityGroup.id,
      description: 'HTTPS out: SSM, Secrets Manager, CloudWatch, S3 and packages via NAT or VPC endpoint',
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      cidrIpv4: '0.0.0.0/0',
      tags: { customer },
    });

    // Instance role of its own: nothing of other customers.
    this.roleArn = iamArn(ns, `role/${names.instanceRole}`);
    this.role = new IamRole(this, 'role', {
      name: names.instanceRole,
      description: `Web servers of ${customer} in ${ns.project}-${ns.env}: its releases, logs, metrics, secret; Session Manager`,
      // EC2's documented instance-role trust, as for the NAT instances: EC2 does not promise the
      // aws:SourceAccount key when it takes on an instance profile's role, and a condition on a key
      // that is absent would leave every instance without credentials.
      assumeRolePolicy: policyJson(serviceTrust(['ec2.amazonaws.com'])),
      tags: { customer },
    });
    const logGroupArn = regionalArn(ns, 'logs', `log-group:${names.appLogGroup}`);
    const main = policyDocument(
      s3ObjectAccess('ReadOwnReleases', env.artifactBucketArn, releasePrefix, 'read'),
      s3ListPrefix('ListOwnReleases', env.artifactBucketArn, releasePrefix),
      ...((props.pipelineArtifactFolders ?? []).length > 0
        ? [
            {
              // The CodeDeploy agent downloads the revision the pipeline stored in its artifact folder.
              Sid: 'ReadOwnPipelineArtifacts',
              Effect: 'Allow' as const,
              Action: ['s3:GetObject', 's3:GetObjectVersion'],
              Resource: props.pipelineArtifactFolders!.map((f) => `${env.artifactBucketArn}/${f}*`),
            },
          ]
        : []),
      {
        // `<group>:*` is the form CloudWatch Logs checks for stream calls; it covers the group's
        // streams only (log group names cannot contain ":").
        Sid: 'WriteOwnAppLogGroup',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        Resource: [logGroupArn, `${logGroupArn}:*`],
      },
      {
        // PutMetricData has no resource types: AWS requires "*"; the namespace condition confines it.
        Sid: 'PutMetricsInOwnNamespace',
        Effect: 'Allow',
        Action: 'cloudwatch:PutMetricData',
        Resource: '*',
        Condition: { StringEquals: { 'cloudwatch:namespace': metricsNamespace } },
      },
      {
        // Session Manager only (instead of AmazonSSMManagedInstanceCore, which also reads every SSM
        // parameter and document). These actions have no resource-level permissions: AWS requires "*".
        Sid: 'SessionManager',
        Effect: 'Allow',
        Action: [
          'ssm:UpdateInstanceInformation',
          'ssmmessages:CreateControlChannel',
          'ssmmessages:CreateDataChannel',
          'ssmmessages:OpenControlChannel',
          'ssmmessages:OpenDataChannel',
        ],
        Resource: '*',
      },
    );
    // The key (and the secret) are known only after apply: kept apart from the literal policy.
    const kmsStatements: Statement[] = [kmsViaService('DecryptReleasesThroughS3', env.kmsKeyArn, kmsActionsFor('read'), 's3', ns.region)];
    if (props.database) {
      kmsStatements.push({
        Sid: 'DecryptOwnDatabaseSecret',
        Effect: 'Allow',
        Action: 'kms:Decrypt',
        Resource: env.kmsKeyArn,
        Condition: allOf(
          { StringEquals: { 'kms:ViaService': `secretsmanager.${ns.region}.amazonaws.com` } },
          { StringEquals: { 'kms:EncryptionContext:SecretARN': props.database.secretArn } },
        ),
      });
    }
    const documents: Record<string, PolicyDocument> = {
      [names.instanceRole]: main,
      [`${names.instanceRole}-kms`]: policyDocument(...kmsStatements),
    };
    if (props.database) {
      documents[`${names.instanceRole}-secret`] = policyDocument({
        Sid: 'ReadOwnDatabaseSecret',
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: props.database.secretArn,
      });
    }
    for (const [name, doc] of Object.entries(documents)) {
      new IamRolePolicy(this, `policy${name.slice(names.instanceRole.length)}`, { name, role: this.role.id, policy: policyJson(doc) });
    }
    this.documents = documents;
    this.instanceProfile = new IamInstanceProfile(this, 'profile', { name: names.instanceProfile, role: this.role.name, tags: { customer } });

    this.logGroup = new CloudwatchLogGroup(this, 'app-logs', {
      name: names.appLogGroup,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: env.kmsKeyArn,
      tags: { customer },
    });

    const userData = webUserData({
      customer,
      project: ns.project,
      environment: ns.env,
      region: ns.region,
      appPort: settings.appPort,
      healthCheckPath: settings.healthCheckPath,
      logGroup: names.appLogGroup,
      metricsNamespace,
      artifactBucket: env.artifactBucketName,
      releasePrefix,
      database: props.database,
    });
    const tagged = (resourceType: string) => ({ resourceType, tags: { ...ownTags, Name: names.launchTemplate } });
    this.launchTemplate = new LaunchTemplate(this, 'lt', {
      name: names.launchTemplate,
      description: `Web servers of ${customer} in ${ns.env}`,
      imageId: webServerImage(settings.architecture),
      instanceType: settings.instanceType,
      iamInstanceProfile: { arn: this.instanceProfile.arn },
      // IMDSv2 only; hop limit 1: nothing behind the instance (containers) reaches its credentials.
      metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 1 },
      // No key pair: Session Manager is the only way in. No public IP: natted subnets, the ALB in front.
      networkInterfaces: [{ deviceIndex: 0, associatePublicIpAddress: 'false', deleteOnTermination: 'true', securityGroups: [this.securityGroup.id] }],
      blockDeviceMappings: [
        {
          deviceName: '/dev/xvda',
          ebs: { encrypted: 'true', kmsKeyId: env.kmsKeyArn, volumeType: 'gp3', volumeSize: settings.rootVolumeGiB, deleteOnTermination: 'true' },
        },
      ],
      monitoring: { enabled: true },
      // A Terraform string with tokens: Terraform fills in the database host and secret ARN at apply.
      userData: Fn.base64encode(terraformString(userData)),
      tagSpecifications: [tagged('instance'), tagged('volume')],
      updateDefaultVersion: true,
      tags: { Name: names.launchTemplate, customer },
      // With an image pipeline, the image is the pipeline's after the first apply (see the prop).
      lifecycle: props.imageManagedByPipeline ? { ignoreChanges: [...PIPELINE_OWNED_TEMPLATE_ATTRIBUTES] } : undefined,
    });

    this.autoScalingGroup = new AutoscalingGroup(this, 'asg', {
      name: names.autoScalingGroup,
      minSize: settings.minCapacity,
      maxSize: settings.maxCapacity,
      desiredCapacity: settings.desiredCapacity,
      vpcZoneIdentifier: [...env.nattedSubnetIds],
      // An explicit version (not $Latest/$Default): a new template version is a visible change of the
      // group, and instance refresh (with auto-rollback) needs an explicit desired configuration.
      launchTemplate: { id: this.launchTemplate.id, version: Token.asString(this.launchTemplate.latestVersion) },
      targetGroupArns: [props.targetGroupArn],
      healthCheckType: 'ELB',
      healthCheckGracePeriod: HEALTH_CHECK_GRACE_SECONDS,
      defaultInstanceWarmup: INSTANCE_WARMUP_SECONDS,
      enabledMetrics: [...ASG_METRICS],
      metricsGranularity: '1Minute',
      terminationPolicies: [...TERMINATION_POLICIES],
      // Wait (bounded) for min_size instances InService: a launch failure (image, profile, key) fails
      // the apply instead of passing silently. No ELB wait (min_elb_capacity unset): ELB health needs
      // the listener rule, which may wait on a certificate; the placeholder settles that later.
      waitForCapacityTimeout: '10m',
      tag: Object.entries({ ...ownTags, Name: names.autoScalingGroup }).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
      lifecycle: {
        // Target tracking owns the desired capacity between min and max; Terraform re-applying the
        // configured value would undo every scaling action. (Raising minCapacity above the current
        // desired capacity still works: AWS raises the desired capacity with it.) With an image
        // pipeline, its instance refreshes own the template version (see imageManagedByPipeline).
        ignoreChanges: [...ASG_IGNORED_ATTRIBUTES, ...(props.imageManagedByPipeline ? PIPELINE_OWNED_ASG_ATTRIBUTES : [])],
      },
    });

    const resourceLabel = `${env.albArnSuffix}/${props.targetGroupArnSuffix}`;
    this.scalingPolicy = new AutoscalingPolicy(this, 'requests-per-target', {
      name: names.scalingPolicy,
      autoscalingGroupName: this.autoScalingGroup.name,
      policyType: 'TargetTrackingScaling',
      targetTrackingConfiguration: {
        targetValue: settings.requestsPerTarget,
        predefinedMetricSpecification: { predefinedMetricType: 'ALBRequestCountPerTarget', resourceLabel },
      },
      dependsOn: props.routedBy && props.routedBy.length > 0 ? [...props.routedBy] : undefined,
    });

    const dimensions = { TargetGroup: props.targetGroupArnSuffix, LoadBalancer: env.albArnSuffix };
    const actions = { alarmActions: [env.alarmTopicArn], okActions: [env.alarmTopicArn] };
    this.alarms = {
      unhealthyHosts: new CloudwatchMetricAlarm(this, 'alarm-unhealthy-hosts', {
        alarmName: names.alarms.unhealthyHosts,
        alarmDescription: `${customer} (${ns.env}): a web server failed the ALB health check for 3 minutes`,
        namespace: 'AWS/ApplicationELB',
        metricName: 'UnHealthyHostCount',
        dimensions,
        statistic: 'Maximum',
        period: 60,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        threshold: 0,
        comparisonOperator: 'GreaterThanThreshold',
        treatMissingData: 'notBreaching',
        ...actions,
        tags: { customer },
      }),
      target5xx: new CloudwatchMetricAlarm(this, 'alarm-target-5xx', {
        alarmName: names.alarms.target5xx,
        alarmDescription: `${customer} (${ns.env}): more than ${props.target5xxPerMinute ?? 10} target 5XX responses a minute for 3 minutes`,
        namespace: 'AWS/ApplicationELB',
        metricName: 'HTTPCode_Target_5XX_Count',
        dimensions,
        statistic: 'Sum',
        period: 60,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        threshold: props.target5xxPerMinute ?? 10,
        comparisonOperator: 'GreaterThanThreshold',
        treatMissingData: 'notBreaching',
        ...actions,
        tags: { customer },
      }),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Validation: every prop, before anything is created.
// ---------------------------------------------------------------------------------------------

type Scope = ReturnType<typeof NamingScope.of>;

function fail(prop: string, value: unknown, allowed: string): never {
  throw new Error(`CustomerWebTier: ${prop} must be ${allowed}, got ${JSON.stringify(value)}`);
}

function isToken(value: string | number): boolean {
  return Token.isUnresolved(value);
}

function wholeNumber(prop: string, value: number, min: number, max: number, why = ''): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(prop, value, `a whole number from ${min} to ${max}${why}`);
}

/** A non-empty string; when literal, also matching `pattern`. */
function reference(prop: string, value: string, pattern: RegExp, allowed: string): void {
  if (typeof value !== 'string' || value.length === 0) fail(prop, value, allowed);
  if (!isToken(value) && !pattern.test(value)) fail(prop, value, allowed);
}

function validate(props: CustomerWebTierProps, ns: Scope): void {
  const p = partitionOf(ns.region);
  const region = ns.region.replace(/[-]/g, '\\-');
  const arn = (service: string, resource: string) => new RegExp(`^arn:${p}:${service}:${region}:${ns.account}:${resource}$`);

  if (typeof props.customer !== 'string' || !CUSTOMER_NAME.test(props.customer)) {
    fail('customer', props.customer, '2-20 characters of a-z, 0-9 and single "-", starting with a letter and ending with a letter or digit');
  }

  const s = props.settings;
  if (typeof s?.instanceType !== 'string' || !EC2_INSTANCE_TYPE.test(s.instanceType)) fail('settings.instanceType', s?.instanceType, 'an EC2 instance type such as t4g.small');
  if (s.architecture !== architectureOf(s.instanceType)) {
    fail('settings.architecture', s.architecture, `"${architectureOf(s.instanceType)}" for instance type ${s.instanceType} (arm64 for Graviton types, x86_64 otherwise)`);
  }
  wholeNumber('settings.minCapacity', s.minCapacity, 1, 100);
  wholeNumber('settings.maxCapacity', s.maxCapacity, 1, 100);
  if (s.maxCapacity < s.minCapacity) fail('settings.maxCapacity', s.maxCapacity, `at least settings.minCapacity (${s.minCapacity})`);
  wholeNumber('settings.desiredCapacity', s.desiredCapacity, s.minCapacity, s.maxCapacity, ' (between settings.minCapacity and settings.maxCapacity)');
  wholeNumber('settings.appPort', s.appPort, 1024, 65535, ': the app runs unprivileged');
  if (typeof s.healthCheckPath !== 'string' || s.healthCheckPath.length > 1024 || !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(s.healthCheckPath)) {
    fail('settings.healthCheckPath', s.healthCheckPath, 'a URL path of at most 1024 characters starting with "/", such as /healthz');
  }
  try {
    placeholderFileFor(s.healthCheckPath);
  } catch (e) {
    fail('settings.healthCheckPath', s.healthCheckPath, `a path the placeholder server can answer (${(e as Error).message})`);
  }
  if (typeof s.healthCheckMatcher !== 'string' || !/^[1-5]\d\d(-[1-5]\d\d)?(,[1-5]\d\d(-[1-5]\d\d)?)*$/.test(s.healthCheckMatcher)) {
    fail('settings.healthCheckMatcher', s.healthCheckMatcher, 'HTTP codes such as "200", "200,204" or "200-299"');
  }
  wholeNumber('settings.rootVolumeGiB', s.rootVolumeGiB, 8, 16384, ' (Amazon Linux 2023 needs 8 GiB; gp3 allows 16 TiB)');
  wholeNumber('settings.requestsPerTarget', s.requestsPerTarget, 1, 1_000_000);

  const e = props.environment;
  reference('environment.vpcId', e.vpcId, /^vpc-[0-9a-f]+$/, 'a VPC id (vpc-...)');
  if (!Array.isArray(e.nattedSubnetIds) || e.nattedSubnetIds.length === 0) fail('environment.nattedSubnetIds', e.nattedSubnetIds, 'at least one subnet id');
  e.nattedSubnetIds.forEach((id, i) => reference(`environment.nattedSubnetIds[${i}]`, id, /^subnet-[0-9a-f]+$/, 'a subnet id (subnet-...)'));
  const literalSubnets = e.nattedSubnetIds.filter((id) => !isToken(id));
  if (new Set(literalSubnets).size !== literalSubnets.length) fail('environment.nattedSubnetIds', e.nattedSubnetIds, 'distinct subnet ids');
  reference('environment.albSecurityGroupId', e.albSecurityGroupId, /^sg-[0-9a-f]+$/, 'a security group id (sg-...)');
  reference('environment.albArnSuffix', e.albArnSuffix, /^app\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/, 'an ALB ARN suffix app/<name>/<id>');
  reference('environment.kmsKeyArn', e.kmsKeyArn, arn('kms', 'key/(mrk-)?[0-9a-f-]+'), `a KMS key ARN of ${ns.account} in ${ns.region}`);
  reference('environment.alarmTopicArn', e.alarmTopicArn, arn('sns', '[A-Za-z0-9_-]{1,256}'), `an SNS topic ARN of ${ns.account} in ${ns.region}`);
  if (typeof e.artifactBucketName !== 'string' || isToken(e.artifactBucketName) || bucketNameProblems(e.artifactBucketName).length > 0) {
    fail('environment.artifactBucketName', e.artifactBucketName, 'a literal, valid S3 bucket name (the role\'s statements use literal ARNs)');
  }
  if (e.artifactBucketArn !== s3Arn(ns.region, e.artifactBucketName)) {
    fail('environment.artifactBucketArn', e.artifactBucketArn, `the literal ARN of environment.artifactBucketName (${s3Arn(ns.region, e.artifactBucketName)})`);
  }

  reference('targetGroupArn', props.targetGroupArn, arn('elasticloadbalancing', 'targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]+'), `a target group ARN of ${ns.account} in ${ns.region}`);
  reference('targetGroupArnSuffix', props.targetGroupArnSuffix, /^targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/, 'a target group ARN suffix targetgroup/<name>/<id>');
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(props.logRetentionDays)) {
    fail('logRetentionDays', props.logRetentionDays, `one of CloudWatch's retention periods (${LOG_RETENTION_DAYS.join(', ')})`);
  }

  const db = props.database;
  if (db !== undefined) {
    reference('database.host', db.host, /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, 'a DNS host name');
    if (!isToken(db.port)) wholeNumber('database.port', db.port, 1, 65535);
    reference('database.name', db.name, /^[A-Za-z][A-Za-z0-9_]{0,62}$/, 'a database name (a letter, then up to 62 letters, digits or "_")');
    reference('database.secretArn', db.secretArn, arn('secretsmanager', 'secret:[A-Za-z0-9/_+=.@!-]+'), `a Secrets Manager secret ARN of ${ns.account} in ${ns.region}`);
  }

  if (props.routedBy !== undefined && !Array.isArray(props.routedBy)) fail('routedBy', props.routedBy, 'a list of constructs (the listener rule)');
  (props.pipelineArtifactFolders ?? []).forEach((f, i) => {
    if (typeof f !== 'string' || !/^[a-z0-9][a-z0-9-]{19}$/.test(f)) fail(`pipelineArtifactFolders[${i}]`, f, 'a 20-character pipeline artifact folder (customerPipelineNames().artifactFolder)');
  });
  if (props.target5xxPerMinute !== undefined) wholeNumber('target5xxPerMinute', props.target5xxPerMinute, 1, 1_000_000);
  for (const [key, value] of Object.entries(props.tags ?? {})) {
    if ((RESERVED_TAGS as readonly string[]).includes(key)) fail(`tags.${key}`, value, `absent: ${RESERVED_TAGS.join(', ')} are set by the construct`);
    if (key.length < 1 || key.length > 128 || typeof value !== 'string' || value.length > 256) fail(`tags.${key}`, value, 'a tag of a 1-128 character key and a value of at most 256 characters');
  }
}
