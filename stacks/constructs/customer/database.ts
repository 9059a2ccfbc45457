import { Construct } from 'constructs';
import { DbInstance } from '@cdktf/provider-aws/lib/db-instance';
import { DbParameterGroup, DbParameterGroupParameter } from '@cdktf/provider-aws/lib/db-parameter-group';
import { DbSubnetGroup } from '@cdktf/provider-aws/lib/db-subnet-group';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Token } from 'cdktf';
import { CUSTOMER_NAME, DATABASE_ENGINES, DatabaseEngine, RDS_INSTANCE_CLASS } from '../../model/config/schema';
import { DatabaseSettings, SUPPORTED_MAJOR_VERSIONS, majorVersion } from '../../model/customers';
import { NAME_LIMITS, RDS_IDENTIFIER, customerNames } from '../../model/naming';
import { EnvironmentExports } from '../environment-exports';
import { NamingScope } from '../naming-scope';

/** The master user's name: not a secret (the password is RDS-managed in Secrets Manager). Valid for postgres and mysql. */
export const DATABASE_MASTER_USERNAME = 'dbadmin';
/** CA of the server certificate clients verify (RSA 2048, the RDS default for new instances). */
export const DATABASE_CA = 'rds-ca-rsa2048-g1';
/** Ports RDS accepts for postgres and mysql. */
export const DATABASE_PORT_MIN = 1150;
export const DATABASE_PORT_MAX = 65535;
/** gp3 storage RDS accepts. */
export const DATABASE_STORAGE_MIN_GIB = 20;
export const DATABASE_STORAGE_MAX_GIB = 65536;
/** Automated backups: at least 1 day (0 would turn them off), at most 35; production at least 7. */
export const BACKUP_RETENTION_MIN_DAYS = 1;
export const BACKUP_RETENTION_MAX_DAYS = 35;
export const PRODUCTION_BACKUP_RETENTION_MIN_DAYS = 7;

/**
 * The parameter that makes the engine refuse unencrypted connections, per engine.
 *
 * - postgres `rds.force_ssl = 1`: whether RDS applies it dynamically has varied across major
 *   versions (and it defaults to 1 only from PG 15 on), and RDS rejects `immediate` for a static
 *   parameter. `pending-reboot` is accepted for both kinds, and a new instance starts with its
 *   parameter group in force, so it is the safe choice; on an existing instance the change waits
 *   for the next reboot (or maintenance window).
 * - mysql `require_secure_transport = 1`: dynamic (AWS: "You don't need to reboot"), so
 *   `immediate`. DB *instance* parameter groups hold this boolean as 0/1 ("ON" is the cluster
 *   parameter group spelling); RDS reports 1, so "1" also avoids a perpetual diff.
 */
export const TLS_PARAMETERS: Record<DatabaseEngine, DbParameterGroupParameter> = {
  postgres: { name: 'rds.force_ssl', value: '1', applyMethod: 'pending-reboot' },
  mysql: { name: 'require_secure_transport', value: '1', applyMethod: 'immediate' },
};

export interface CustomerDatabaseProps {
  /** The customer's name (a DNS label, part of resource names). */
  readonly customer: string;
  /** The database resolved for this environment: engine, version, family, size, backups, production. */
  readonly settings: DatabaseSettings;
  /** What the environment exports: VPC, private subnets, KMS key. */
  readonly environment: EnvironmentExports;
  /** The customer's web-server security group: the only source the database accepts, given an egress rule to it. */
  readonly webSecurityGroupId: string;
}

/**
 * A customer's database: one RDS instance in the environment's private subnets, reachable only
 * from the customer's own web servers on the engine port, TLS enforced by its parameter group,
 * storage and master-user secret encrypted with the environment key. The master password is
 * managed by RDS in Secrets Manager: no password is in the configuration or in Terraform state.
 * Production databases are Multi-AZ, deletion-protected, leave a final snapshot and carry
 * `prevent_destroy`.
 */
export class CustomerDatabase extends Construct {
  /** The RDS instance. */
  readonly instance: DbInstance;
  /** The database's subnet group (the environment's private subnets). */
  readonly subnetGroup: DbSubnetGroup;
  /** The TLS-enforcing parameter group. */
  readonly parameterGroup: DbParameterGroup;
  /** The database's security group: ingress from the web security group only, no egress. */
  readonly securityGroup: SecurityGroup;
  /** The database's security group id. */
  readonly securityGroupId: string;
  /** The web security group's egress rule to the database. */
  readonly webEgressRule: VpcSecurityGroupEgressRule;
  /** The database's ingress rule from the web security group. */
  readonly ingressRule: VpcSecurityGroupIngressRule;
  /** Host name (address) of the instance endpoint. */
  readonly host: string;
  /** Port the engine listens on. */
  readonly port: number;
  /** Name of the database inside the engine. */
  readonly name: string;
  /** The master user's name (not a secret). */
  readonly username: string;
  /** ARN of the RDS-managed Secrets Manager secret holding the master user's credentials. */
  readonly secretArn: string;

  constructor(scope: Construct, id: string, props: CustomerDatabaseProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    const names = customerNames(ns, props.customer);
    validate(props, names);
    const s = props.settings;
    const env = props.environment;
    const tags = (name: string) => ({ Name: name, customer: props.customer });

    this.subnetGroup = new DbSubnetGroup(this, 'subnet-group', {
      name: names.databaseSubnetGroup,
      description: `Database of ${props.customer} in ${ns.env}: the private subnets`,
      subnetIds: [...env.privateSubnetIds],
      tags: tags(names.databaseSubnetGroup),
    });

    // No egress rules: Terraform removes the default allow-all egress when it creates the group,
    // and a database answers on its connections without one (security groups are stateful).
    this.securityGroup = new SecurityGroup(this, 'sg', {
      name: names.databaseSecurityGroup,
      description: `Database of ${props.customer} in ${ns.env}: ${s.engine} from the customer's web servers only`,
      vpcId: env.vpcId,
      tags: tags(names.databaseSecurityGroup),
    });
    this.securityGroupId = this.securityGroup.id;
    this.ingressRule = new VpcSecurityGroupIngressRule(this, 'sg-in-web', {
      securityGroupId: this.securityGroup.id,
      description: `${s.engine} from the web servers of ${props.customer}`,
      ipProtocol: 'tcp',
      fromPort: s.port,
      toPort: s.port,
      referencedSecurityGroupId: props.webSecurityGroupId,
      tags: tags(`${names.databaseSecurityGroup}-in-web`),
    });
    this.webEgressRule = new VpcSecurityGroupEgressRule(this, 'web-sg-out-db', {
      securityGroupId: props.webSecurityGroupId,
      description: `${s.engine} to the database of ${props.customer} only`,
      ipProtocol: 'tcp',
      fromPort: s.port,
      toPort: s.port,
      referencedSecurityGroupId: this.securityGroup.id,
      tags: tags(`${names.webSecurityGroup}-out-db`),
    });

    this.parameterGroup = new DbParameterGroup(this, 'parameter-group', {
      name: names.databaseParameterGroup,
      family: s.family,
      description: `Database of ${props.customer} in ${ns.env}: TLS required`,
      parameter: [TLS_PARAMETERS[s.engine]],
      tags: tags(names.databaseParameterGroup),
    });

    const production = s.production;
    this.instance = new DbInstance(this, 'instance', {
      identifier: names.database,
      engine: s.engine,
      engineVersion: s.version,
      instanceClass: s.instanceClass,
      allocatedStorage: s.storageGiB,
      storageType: 'gp3',
      storageEncrypted: true,
      kmsKeyId: env.kmsKeyArn,
      username: DATABASE_MASTER_USERNAME,
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: env.kmsKeyArn,
      dbName: names.databaseName,
      port: s.port,
      publiclyAccessible: false,
      dbSubnetGroupName: this.subnetGroup.name,
      vpcSecurityGroupIds: [this.securityGroup.id],
      parameterGroupName: this.parameterGroup.name,
      caCertIdentifier: DATABASE_CA,
      backupRetentionPeriod: s.backupRetentionDays,
      copyTagsToSnapshot: true,
      autoMinorVersionUpgrade: true,
      multiAz: production,
      deletionProtection: production,
      skipFinalSnapshot: !production,
      finalSnapshotIdentifier: production ? names.databaseFinalSnapshot : undefined,
      lifecycle: production ? { preventDestroy: true } : undefined,
      tags: tags(names.database),
    });

    this.host = this.instance.address;
    this.port = s.port;
    this.name = names.databaseName;
    this.username = DATABASE_MASTER_USERNAME;
    this.secretArn = this.instance.masterUserSecret.get(0).secretArn;
  }
}

/** Checks every prop before anything is created; each error names the prop, the bad value and what is allowed. */
function validate(props: CustomerDatabaseProps, names: ReturnType<typeof customerNames>): void {
  const fail = (prop: string, value: unknown, allowed: string): never => {
    throw new Error(`CustomerDatabase: ${prop} must be ${allowed}, got ${JSON.stringify(value)}`);
  };
  const s = props.settings;
  if (!CUSTOMER_NAME.test(props.customer)) fail('customer', props.customer, '2-20 characters of a-z, 0-9 and "-", starting with a letter, not ending with "-" and without "--"');
  if (names.database.length > NAME_LIMITS.rdsIdentifier || !RDS_IDENTIFIER.test(names.database)) {
    fail('customer', props.customer, `a name that gives a valid RDS identifier (a letter, then letters, digits and single hyphens, at most ${NAME_LIMITS.rdsIdentifier}); it gives "${names.database}"`);
  }
  if (!(DATABASE_ENGINES as readonly string[]).includes(s.engine)) fail('settings.engine', s.engine, `one of ${DATABASE_ENGINES.join(', ')}`);
  const supported = SUPPORTED_MAJOR_VERSIONS[s.engine];
  if (typeof s.version !== 'string' || !/^\d+(\.\d+){0,2}$/.test(s.version) || !supported.includes(majorVersion(s.engine, s.version))) {
    fail('settings.version', s.version, `a ${s.engine} version of a supported major version (${supported.join(', ')}) such as "${supported[supported.length - 1]}"`);
  }
  const family = `${s.engine}${majorVersion(s.engine, s.version)}`;
  if (s.family !== family) fail('settings.family', s.family, `the parameter group family of ${s.engine} ${s.version}, "${family}"`);
  if (!Number.isInteger(s.port) || s.port < DATABASE_PORT_MIN || s.port > DATABASE_PORT_MAX) {
    fail('settings.port', s.port, `a whole number from ${DATABASE_PORT_MIN} to ${DATABASE_PORT_MAX} (RDS ports for ${s.engine})`);
  }
  if (typeof s.instanceClass !== 'string' || !RDS_INSTANCE_CLASS.test(s.instanceClass)) fail('settings.instanceClass', s.instanceClass, 'an RDS instance class such as db.t4g.micro');
  if (!Number.isInteger(s.storageGiB) || s.storageGiB < DATABASE_STORAGE_MIN_GIB || s.storageGiB > DATABASE_STORAGE_MAX_GIB) {
    fail('settings.storageGiB', s.storageGiB, `a whole number of GiB from ${DATABASE_STORAGE_MIN_GIB} to ${DATABASE_STORAGE_MAX_GIB} (gp3)`);
  }
  const minRetention = s.production ? PRODUCTION_BACKUP_RETENTION_MIN_DAYS : BACKUP_RETENTION_MIN_DAYS;
  if (!Number.isInteger(s.backupRetentionDays) || s.backupRetentionDays < minRetention || s.backupRetentionDays > BACKUP_RETENTION_MAX_DAYS) {
    fail('settings.backupRetentionDays', s.backupRetentionDays, `a whole number of days from ${minRetention} to ${BACKUP_RETENTION_MAX_DAYS}${s.production ? ' in production' : ''}`);
  }
  if (typeof s.production !== 'boolean') fail('settings.production', s.production, 'true or false');
  if (props.environment.privateSubnetIds.length < 2) {
    fail('environment.privateSubnetIds', props.environment.privateSubnetIds, 'at least 2 subnets in different AZs (an RDS subnet group spans two AZs or more)');
  }
  const sg = props.webSecurityGroupId;
  if (typeof sg !== 'string' || sg === '' || (!Token.isUnresolved(sg) && !/^sg-[0-9a-f]{8,17}$/.test(sg))) {
    fail('webSecurityGroupId', sg, 'a security group id such as sg-0123456789abcdef0 (or a reference to one)');
  }
}
