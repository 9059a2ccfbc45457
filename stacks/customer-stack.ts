import { Construct } from 'constructs';
import { Lazy } from 'cdktf';
import { CustomerDatabase } from './constructs/customer/database';
import { CustomerRouting } from './constructs/customer/routing';
import { CustomerImagePipeline } from './constructs/customer/image-pipeline';
import { CustomerSoftwarePipeline } from './constructs/customer/software-pipeline';
import { CustomerWebTier, INSTANCE_WARMUP_SECONDS } from './constructs/customer/web-tier';
import { EnvironmentExports, forShard } from './constructs/environment-exports';
import { CustomerEnvironment } from './model/customers';
import { iamArn } from './model/iam-policy';
import { customerNames, customerPipelineNames } from './model/naming';
import { EnvironmentConfig } from './model/config/validate';
import { environmentTags } from './environment-stack';
import { PlatformStack } from './platform-stack';

export interface CustomerStackProps {
  /** The validated environment the customer is in (account, region, domain, retention, tags). */
  readonly environment: EnvironmentConfig;
  /** The customer, resolved for this environment. */
  readonly customer: CustomerEnvironment;
  /** What the environment stack gives its customers: the only thing read from that stack. */
  readonly exports: EnvironmentExports;
}

/**
 * One customer in one environment (`<env>-<customer>`): web servers behind the environment's ALB
 * at its host names, its routing, DNS and certificates, its optional database, and its software
 * pipelines (push → rule → pipeline → in-place CodeDeploy on its auto scaling group) and, with an
 * infrastructure repository, its image pipelines (push → rule → Packer bake → instance refresh). It reads the
 * environment only through `EnvironmentExports`; cdktf turns those references into remote state,
 * records the dependency in the manifest, and deploys the environment first.
 */
export class CustomerStack extends PlatformStack {
  readonly routing: CustomerRouting;
  readonly web: CustomerWebTier;
  readonly database?: CustomerDatabase;
  /** Push-to-deploy: one pipeline per routed branch, into one in-place deployment group. */
  readonly softwarePipeline: CustomerSoftwarePipeline;
  /** Push-to-rollout of machine images, when the customer has routed infrastructure branches here. */
  readonly imagePipeline?: CustomerImagePipeline;

  constructor(scope: Construct, id: string, props: CustomerStackProps) {
    super(scope, id);
    const env = props.environment;
    const c = props.customer;
    // The customer's view of the environment: the ALB fields are those of its own shard.
    const exports = forShard(props.exports, c.shard);
    this.useEnvironmentAccount(env, { ...environmentTags(env), customer: c.name });

    this.routing = new CustomerRouting(this, 'routing', {
      customer: c.name,
      settings: c,
      environment: exports,
      environmentHostedZoneId: env.ingress.hostedZoneId,
      ipv6: env.ingress.ipv6,
    });

    // The web tier's settings name the database, and the database admits the web tier's security
    // group: the database is created after the web tier, which reads its endpoint lazily.
    let database: CustomerDatabase | undefined;
    const lazy = (produce: (db: CustomerDatabase) => string) => Lazy.stringValue({ produce: () => produce(database!) });
    this.web = new CustomerWebTier(this, 'web', {
      customer: c.name,
      settings: c.web,
      environment: exports,
      targetGroupArn: this.routing.targetGroupArn,
      targetGroupArnSuffix: this.routing.targetGroupArnSuffix,
      logRetentionDays: env.security.cloudWatchLogRetentionDays,
      database: c.database
        ? { host: lazy((db) => db.host), port: c.database.port, name: customerNames({ project: env.project, env: env.name }, c.name).databaseName, secretArn: lazy((db) => db.secretArn) }
        : undefined,
      routedBy: [this.routing.listenerRule],
      imageManagedByPipeline: c.infrastructureBranches.length > 0,
      pipelineArtifactFolders: c.softwareBranches.map((b) => customerPipelineNames({ project: env.project, env: env.name }, c.name, b).artifactFolder),
    });
    if (c.database) {
      database = new CustomerDatabase(this, 'database', {
        customer: c.name,
        settings: c.database,
        environment: exports,
        webSecurityGroupId: this.web.securityGroupId,
      });
      this.database = database;
    }

    this.softwarePipeline = new CustomerSoftwarePipeline(this, 'software-pipeline', {
      customer: c.name,
      branches: c.softwareBranches,
      production: env.production,
      environment: props.exports,
      autoScalingGroup: this.web.autoScalingGroup,
      minCapacity: c.web.minCapacity,
      targetGroup: this.routing.targetGroup,
      alarms: [this.web.alarms.unhealthyHosts, this.web.alarms.target5xx],
    });

    if (c.infrastructureBranches.length > 0) {
      const scope = { project: env.project, env: env.name, account: env.account, region: env.region };
      const names = customerNames(scope, c.name);
      this.imagePipeline = new CustomerImagePipeline(this, 'image-pipeline', {
        customer: c.name,
        branches: c.infrastructureBranches,
        production: env.production,
        environment: props.exports,
        architecture: c.web.architecture,
        autoScalingGroup: this.web.autoScalingGroup,
        instanceProfile: this.web.instanceProfile,
        instanceRoleArn: iamArn(scope, `role/${names.instanceRole}`),
        alarms: [this.web.alarms.unhealthyHosts, this.web.alarms.target5xx],
        instanceWarmupSeconds: INSTANCE_WARMUP_SECONDS,
        logRetentionDays: env.security.cloudWatchLogRetentionDays,
      });
    }
  }
}
