import { TerraformOutput } from 'cdktf';
import { CustomerDatabase, CustomerDatabaseProps } from '../stacks/constructs/customer/database';
import { customerNames } from '../stacks/model/naming';
import { TEST_ENVIRONMENT, testDatabase } from './support/customer';
import { TEST_SCOPE, synthScoped } from './support/scope';
import { StackJson, resourceList, resources } from './support/synth';

const WEB_SG = 'sg-0feb0000000000001';
const names = customerNames(TEST_SCOPE, 'shop');

function props(over: Partial<CustomerDatabaseProps> = {}): CustomerDatabaseProps {
  return { customer: 'shop', settings: testDatabase(), environment: TEST_ENVIRONMENT, webSecurityGroupId: WEB_SG, ...over };
}

function synthText(over: Partial<CustomerDatabaseProps> = {}): string {
  return synthScoped((scope) => {
    const db = new CustomerDatabase(scope, 'db', props(over));
    new TerraformOutput(scope, 'host', { value: db.host });
    new TerraformOutput(scope, 'port', { value: db.port });
    new TerraformOutput(scope, 'name', { value: db.name });
    new TerraformOutput(scope, 'secret', { value: db.secretArn });
    new TerraformOutput(scope, 'sg', { value: db.securityGroupId });
  });
}
const synth = (over: Partial<CustomerDatabaseProps> = {}): StackJson => JSON.parse(synthText(over));

function only(json: StackJson, type: string): any {
  const list = resourceList(json, type);
  expect(list).toHaveLength(1);
  return list[0];
}
function addr(json: StackJson, type: string): string {
  const ids = Object.keys(resources(json, type));
  expect(ids).toHaveLength(1);
  return `${type}.${ids[0]}`;
}
const ref = (json: StackJson, type: string, attr: string) => `\${${addr(json, type)}.${attr}}`;

/** Every key anywhere in a JSON value. */
function keysDeep(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(keysDeep);
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [k, ...keysDeep(x)]);
  return [];
}

describe('CustomerDatabase: instance', () => {
  test('postgres outside production: engine, storage, managed password, names, network, TLS CA, backups', () => {
    const json = synth();
    const db = only(json, 'aws_db_instance');
    expect(db).toMatchObject({
      identifier: names.database,
      engine: 'postgres',
      engine_version: '16',
      instance_class: 'db.t4g.micro',
      allocated_storage: 20,
      storage_type: 'gp3',
      storage_encrypted: true,
      kms_key_id: TEST_ENVIRONMENT.kmsKeyArn,
      username: 'dbadmin',
      manage_master_user_password: true,
      master_user_secret_kms_key_id: TEST_ENVIRONMENT.kmsKeyArn,
      db_name: 'shop',
      port: 5432,
      publicly_accessible: false,
      db_subnet_group_name: ref(json, 'aws_db_subnet_group', 'name'),
      vpc_security_group_ids: [ref(json, 'aws_security_group', 'id')],
      parameter_group_name: ref(json, 'aws_db_parameter_group', 'name'),
      ca_cert_identifier: 'rds-ca-rsa2048-g1',
      backup_retention_period: 1,
      copy_tags_to_snapshot: true,
      auto_minor_version_upgrade: true,
      tags: { Name: names.database, customer: 'shop' },
    });
  });

  test('no password anywhere; the master password is RDS-managed', () => {
    for (const production of [false, true]) {
      for (const engine of ['postgres', 'mysql'] as const) {
        const text = synthText({ settings: testDatabase(engine === 'mysql' ? { engine, version: '8.0', family: 'mysql8.0', port: 3306, production, backupRetentionDays: 7 } : { production, backupRetentionDays: 7 }) });
        const json = JSON.parse(text) as StackJson;
        expect(keysDeep(json.resource).filter((k) => /password/i.test(k) && k !== 'manage_master_user_password')).toEqual([]);
        expect(only(json, 'aws_db_instance').manage_master_user_password).toBe(true);
      }
    }
  });

  test.each([
    [
      'production',
      true,
      { multi_az: true, deletion_protection: true, skip_final_snapshot: false, final_snapshot_identifier: names.databaseFinalSnapshot, lifecycle: { prevent_destroy: true } },
    ],
    ['not production', false, { multi_az: false, deletion_protection: false, skip_final_snapshot: true, final_snapshot_identifier: undefined, lifecycle: undefined }],
  ])('%s', (_, production, expected) => {
    const db = only(synth({ settings: testDatabase({ production, backupRetentionDays: 7 }) }), 'aws_db_instance');
    const { multi_az, deletion_protection, skip_final_snapshot, final_snapshot_identifier, lifecycle } = db;
    expect({ multi_az, deletion_protection, skip_final_snapshot, final_snapshot_identifier, lifecycle }).toEqual(expected);
    expect(db.backup_retention_period).toBe(7);
  });

  test('the final snapshot identifier is deterministic and a valid RDS identifier', () => {
    expect(names.databaseFinalSnapshot).toBe('p-dev-shop-final');
    const long = customerNames({ project: 'platform-project-xy', env: 'production1' }, 'a-very-long-customer1');
    expect(long.databaseFinalSnapshot).toBe(`${long.database}-final`);
    expect(long.databaseFinalSnapshot).toMatch(/^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$/);
  });

  test('exposes host, port, name, the secret ARN (master_user_secret[0].secret_arn) and the security group id', () => {
    const json = synth();
    const outputs = Object.fromEntries(Object.entries(json.output ?? {}).map(([k, o]: [string, any]) => [k, o.value]));
    const instance = addr(json, 'aws_db_instance');
    expect(outputs).toEqual({
      host: `\${${instance}.address}`,
      port: 5432,
      name: 'shop',
      secret: `\${${instance}.master_user_secret[0].secret_arn}`,
      sg: ref(json, 'aws_security_group', 'id'),
    });
  });
});

describe('CustomerDatabase: network', () => {
  test('subnet group over the private subnets', () => {
    expect(only(synth(), 'aws_db_subnet_group')).toMatchObject({
      name: names.databaseSubnetGroup,
      subnet_ids: TEST_ENVIRONMENT.privateSubnetIds,
      tags: { customer: 'shop' },
    });
  });

  test.each([
    ['postgres', testDatabase(), 5432],
    ['mysql', testDatabase({ engine: 'mysql', version: '8.0', family: 'mysql8.0', port: 3306 }), 3306],
  ])('%s: the DB security group takes the engine port from the web SG only and has no egress; the web SG reaches only the DB', (_, settings, port) => {
    const json = synth({ settings });
    const sg = only(json, 'aws_security_group');
    expect(sg).toMatchObject({ name: names.databaseSecurityGroup, vpc_id: TEST_ENVIRONMENT.vpcId, tags: { customer: 'shop' } });
    expect(sg.ingress).toBeUndefined();
    expect(sg.egress).toBeUndefined();
    const dbSg = ref(json, 'aws_security_group', 'id');
    expect(only(json, 'aws_vpc_security_group_ingress_rule')).toMatchObject({
      security_group_id: dbSg,
      referenced_security_group_id: WEB_SG,
      ip_protocol: 'tcp',
      from_port: port,
      to_port: port,
    });
    // The only egress rule is on the web SG, towards the DB SG.
    expect(only(json, 'aws_vpc_security_group_egress_rule')).toMatchObject({
      security_group_id: WEB_SG,
      referenced_security_group_id: dbSg,
      ip_protocol: 'tcp',
      from_port: port,
      to_port: port,
    });
    for (const rule of [...resourceList(json, 'aws_vpc_security_group_ingress_rule'), ...resourceList(json, 'aws_vpc_security_group_egress_rule')]) {
      expect(rule.cidr_ipv4).toBeUndefined();
      expect(rule.cidr_ipv6).toBeUndefined();
    }
  });

  test('no data sources', () => {
    expect(synth().data ?? {}).toEqual({});
  });
});

describe('CustomerDatabase: TLS parameter group', () => {
  test.each([
    ['postgres 16', testDatabase(), 'postgres16', { name: 'rds.force_ssl', value: '1', apply_method: 'pending-reboot' }],
    ['postgres 13', testDatabase({ version: '13.15', family: 'postgres13' }), 'postgres13', { name: 'rds.force_ssl', value: '1', apply_method: 'pending-reboot' }],
    ['mysql 8.0', testDatabase({ engine: 'mysql', version: '8.0', family: 'mysql8.0', port: 3306 }), 'mysql8.0', { name: 'require_secure_transport', value: '1', apply_method: 'immediate' }],
    ['mysql 8.4', testDatabase({ engine: 'mysql', version: '8.4', family: 'mysql8.4', port: 3306 }), 'mysql8.4', { name: 'require_secure_transport', value: '1', apply_method: 'immediate' }],
  ])('%s', (_, settings, family, parameter) => {
    const json = synth({ settings });
    expect(only(json, 'aws_db_parameter_group')).toMatchObject({ name: names.databaseParameterGroup, family, parameter: [parameter], tags: { customer: 'shop' } });
    expect(only(json, 'aws_db_instance')).toMatchObject({ engine: settings.engine, engine_version: settings.version, port: settings.port });
  });
});

describe('CustomerDatabase: validation', () => {
  test.each<[string, Partial<CustomerDatabaseProps>, RegExp]>([
    ['customer name', { customer: 'Shop' }, /customer must be .*got "Shop"/],
    ['engine', { settings: testDatabase({ engine: 'oracle' as never }) }, /settings\.engine must be one of postgres, mysql, got "oracle"/],
    ['unsupported major version', { settings: testDatabase({ version: '12', family: 'postgres12' }) }, /settings\.version must be a postgres version of a supported major version \(13, 14, 15, 16, 17\).*got "12"/],
    ['family not matching the version', { settings: testDatabase({ family: 'postgres15' }) }, /settings\.family must be the parameter group family of postgres 16, "postgres16", got "postgres15"/],
    ['port below 1150', { settings: testDatabase({ port: 80 }) }, /settings\.port must be a whole number from 1150 to 65535.*got 80/],
    ['instance class', { settings: testDatabase({ instanceClass: 't4g.micro' }) }, /settings\.instanceClass must be an RDS instance class such as db\.t4g\.micro, got "t4g\.micro"/],
    ['storage below 20 GiB', { settings: testDatabase({ storageGiB: 10 }) }, /settings\.storageGiB must be a whole number of GiB from 20 to 65536.*got 10/],
    ['backups off', { settings: testDatabase({ backupRetentionDays: 0 }) }, /settings\.backupRetentionDays must be a whole number of days from 1 to 35, got 0/],
    ['backups over 35 days', { settings: testDatabase({ backupRetentionDays: 36 }) }, /settings\.backupRetentionDays must be a whole number of days from 1 to 35, got 36/],
    ['production backups under 7 days', { settings: testDatabase({ production: true, backupRetentionDays: 3 }) }, /settings\.backupRetentionDays must be a whole number of days from 7 to 35 in production, got 3/],
    ['one private subnet', { environment: { ...TEST_ENVIRONMENT, privateSubnetIds: ['subnet-0p1'] } }, /environment\.privateSubnetIds must be at least 2 subnets.*got \["subnet-0p1"\]/],
    ['web SG not an id', { webSecurityGroupId: 'web' }, /webSecurityGroupId must be a security group id.*got "web"/],
  ])('%s', (_, over, message) => {
    let created = 0;
    expect(() =>
      synthScoped((scope) => {
        new CustomerDatabase(scope, 'db', props(over));
        created++;
      }),
    ).toThrow(message);
    expect(created).toBe(0);
  });

  test('the valid defaults pass, and a reference as web SG id is accepted', () => {
    expect(() => synth()).not.toThrow();
    expect(() =>
      synthScoped((scope) => {
        const other = new CustomerDatabase(scope, 'a', props());
        new CustomerDatabase(scope, 'b', { ...props({ customer: 'blog' }), webSecurityGroupId: other.securityGroupId });
      }),
    ).not.toThrow();
  });

  test('nothing is created before validation fails', () => {
    let children = -1;
    synthScoped((scope) => {
      expect(() => new CustomerDatabase(scope, 'db', props({ settings: testDatabase({ port: 1 }) }))).toThrow(/settings\.port/);
      children = scope.node.findAll().filter((c) => c.node.path.includes('db/')).length;
    });
    expect(children).toBe(0);
  });
});
