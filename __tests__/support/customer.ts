import { EnvironmentExports, ShardExports } from '../../stacks/constructs/environment-exports';
import { CustomerEnvironment, DatabaseSettings } from '../../stacks/model/customers';

/** Literal exports of shard 0's ALB. */
const TEST_SHARD0: ShardExports = {
  albArn: 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/p-dev/0123456789abcdef',
  albArnSuffix: 'app/p-dev/0123456789abcdef',
  albDnsName: 'p-dev-123456789.eu-west-1.elb.amazonaws.com',
  albZoneId: 'Z32O12XQLNTSW2',
  albSecurityGroupId: 'sg-0a1b0000000000001',
  httpsListenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/p-dev/0123456789abcdef/fedcba9876543210',
};

/** Literal exports of shard 1's ALB. */
export const TEST_SHARD1: ShardExports = {
  albArn: 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/p-dev-s1/1123456789abcdef',
  albArnSuffix: 'app/p-dev-s1/1123456789abcdef',
  albDnsName: 'p-dev-s1-123456789.eu-west-1.elb.amazonaws.com',
  albZoneId: 'Z32O12XQLNTSW2',
  albSecurityGroupId: 'sg-0a1b0000000000002',
  httpsListenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/p-dev-s1/1123456789abcdef/fedcba9876543211',
};

/** Literal environment exports: what an environment stack would hand a customer stack (two shards). */
export const TEST_ENVIRONMENT: EnvironmentExports = {
  vpcId: 'vpc-0123456789abcdef0',
  nattedSubnetIds: ['subnet-0n1', 'subnet-0n2', 'subnet-0n3'],
  privateSubnetIds: ['subnet-0p1', 'subnet-0p2', 'subnet-0p3'],
  ...TEST_SHARD0,
  shards: [TEST_SHARD0, TEST_SHARD1],
  kmsKeyArn: 'arn:aws:kms:eu-west-1:111111111111:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d',
  artifactBucketName: 'p-dev-artifacts-111111111111-eu-west-1',
  artifactBucketArn: 'arn:aws:s3:::p-dev-artifacts-111111111111-eu-west-1',
  alarmTopicArn: 'arn:aws:sns:eu-west-1:111111111111:p-dev-alarms',
};

/** Customer "shop" in dev.example.com without custom domains or database; `over` replaces fields. */
export function testCustomer(over: Partial<CustomerEnvironment> = {}): CustomerEnvironment {
  return {
    name: 'shop',
    defaultHost: 'shop.dev.example.com',
    hosts: ['shop.dev.example.com'],
    customDomains: [],
    rulePriority: 4242,
    rulePriorityConfigured: true,
    shard: 0,
    web: {
      instanceType: 't4g.small',
      architecture: 'arm64',
      minCapacity: 1,
      desiredCapacity: 1,
      maxCapacity: 2,
      appPort: 8080,
      healthCheckPath: '/healthz',
      healthCheckMatcher: '200',
      rootVolumeGiB: 20,
      requestsPerTarget: 1000,
    },
    softwareBranches: ['develop'],
    infrastructureBranches: [],
    ...over,
  };
}

/** A resolved postgres 16 database outside production; `over` replaces fields. */
export function testDatabase(over: Partial<DatabaseSettings> = {}): DatabaseSettings {
  return {
    engine: 'postgres',
    version: '16',
    family: 'postgres16',
    port: 5432,
    instanceClass: 'db.t4g.micro',
    storageGiB: 20,
    backupRetentionDays: 1,
    production: false,
    ...over,
  };
}
