import { AcmCertificate } from '@cdktf/provider-aws/lib/acm-certificate';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import {
  ELB_ACCOUNT_BY_REGION,
  ELB_LOG_DELIVERY_SERVICE,
  ELB_SERVICE_PRINCIPAL_REGIONS,
  elbLogDeliveryPrincipal,
} from '../stacks/model/elb-log-delivery';
import { EntryCertificate, PublicEntry, PublicEntryProps, TLS_POLICY } from '../stacks/constructs/ingress/public-entry';
import { planNetwork } from '../stacks/model/ip-plan';
import { VpcNetwork } from '../stacks/constructs/network/vpc-network';
import { exampleConfig, problemsOf } from './support/config';
import { EnvNameParts } from '../stacks/model/naming';
import { synthScoped } from './support/scope';
import { StackJson, resourceList, resources, synthStack } from './support/synth';

const AZS = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
const plan = planNetwork('10.10.0.0/16', AZS);
const ZONE = 'Z0DEV0000000000000001';
const CERT_ARN = 'arn:aws:acm:eu-west-1:111111111111:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';
const ACM_DNS: EntryCertificate = { kind: 'acm-dns', hostedZoneId: ZONE };
const EXISTING: EntryCertificate = { kind: 'existing', certificateArn: CERT_ARN };

/** Synthesizes a PublicEntry in a fresh VPC; `over` replaces props (region and AZs move together). */
function entry(over: Partial<PublicEntryProps> & Partial<EnvNameParts> = {}): string {
  const { project, env, account, region: inRegion, ...props } = over;
  const region = inRegion ?? 'eu-west-1';
  return synthScoped((scope) => {
    const azs = ['a', 'b', 'c'].map((l) => `${region}${l}`);
    const net = new VpcNetwork(scope, 'net', { plan: planNetwork('10.10.0.0/16', azs), availabilityZones: azs, ipv6: over.ipv6 });
    new PublicEntry(scope, 'ingress', {
      vpcId: net.vpc.id,
      publicSubnets: net.subnets.public,
      nattedSupernet: plan.tiers.natted.supernet,
      domain: 'dev.example.com',
      certificate: ACM_DNS,
      ...props,
    });
  }, { project, env, account, region });
}

const parsed = (over: Partial<PublicEntryProps> & Partial<EnvNameParts> = {}): StackJson => JSON.parse(entry(over));

/** The only resource of a type (fails when there are none or several). */
function only(json: StackJson, type: string): any {
  const list = resourceList(json, type);
  expect(list).toHaveLength(1);
  return list[0];
}

/** Address `type.logicalId` of the only resource of a type whose logical id contains `part` (synthScope ids carry hashes). */
function addr(json: StackJson, type: string, part = ''): string {
  const ids = Object.keys(resources(json, type)).filter((id) => id.includes(part));
  expect(ids).toHaveLength(1);
  return `${type}.${ids[0]}`;
}

/** A reference `${address.attr}` to that resource's attribute. */
const ref = (json: StackJson, type: string, attr: string, part = '') => `\${${addr(json, type, part)}.${attr}}`;

/** Asserts exactly one problem matches the path and message, and that it carries the bad value. */
function expectProblem(problems: ReturnType<typeof problemsOf>, pathStr: string, message: RegExp, value?: unknown) {
  const hits = problems.filter((p) => p.path === pathStr && message.test(p.message));
  if (hits.length !== 1) throw new Error(`expected one problem at ${pathStr} matching ${message}, got:\n${JSON.stringify(problems, null, 1)}`);
  if (value !== undefined) expect(hits[0]!.value).toEqual(value);
}

describe('ingress config', () => {
  test('defaults: IPv4 only, 60 s idle timeout, 30 days of access logs, one shard with the default ALB quotas', () => {
    const dev = exampleConfig().environments[0]!;
    expect(dev.ingress).toEqual({ domain: 'dev.web.example.com', hostedZoneId: 'Z0DEV0000000000000001', ipv6: false, idleTimeoutSeconds: 60, accessLogRetentionDays: 30, shards: 1, rulesPerShard: 100, certificatesPerShard: 25, albsPerRegion: 50 });
  });

  test('an existing certificate in the same region is accepted instead of a zone', () => {
    const c = exampleConfig((c) => (c.environments[0].ingress = { domain: 'dev.web.example.com', certificateArn: CERT_ARN }));
    expect(c.environments[0]!.ingress.certificateArn).toBe(CERT_ARN);
  });
});

describe('ingress config rejections: each names the field, the bad value and what is allowed', () => {
  const dev = 'environments[0] (dev).ingress';

  test.each(['https://dev.example.com', 'Dev.Example.com', 'dev.example.com.', '*.dev.example.com', 'localhost', 'dev..example.com'])('a malformed domain %j', (domain) => {
    expectProblem(problemsOf((c) => (c.environments[0].ingress.domain = domain)), `${dev}.domain`, /expected a lower-case DNS domain such as dev\.example\.com/, domain);
  });

  test('a missing domain', () => {
    expectProblem(problemsOf((c) => delete c.environments[0].ingress.domain), `${dev}.domain`, /required field is missing/);
  });

  test('a hosted zone id and a certificate ARN together', () => {
    expectProblem(
      problemsOf((c) => (c.environments[0].ingress.certificateArn = CERT_ARN)),
      `${dev}.certificateArn`,
      /give either hostedZoneId \(a new certificate validated by DNS\) or certificateArn \(an existing certificate\), not both/,
      CERT_ARN,
    );
  });

  test('neither a hosted zone id nor a certificate ARN', () => {
    expectProblem(problemsOf((c) => delete c.environments[0].ingress.hostedZoneId), `${dev}.hostedZoneId`, /give either hostedZoneId .* or certificateArn/);
  });

  test('a certificate in another region', () => {
    const arn = CERT_ARN.replace('eu-west-1', 'us-east-1');
    expectProblem(
      problemsOf((c) => (c.environments[0].ingress = { domain: 'dev.web.example.com', certificateArn: arn })),
      `${dev}.certificateArn`,
      /the certificate is in us-east-1; an ALB needs a certificate in its own region eu-west-1/,
      arn,
    );
  });

  test('a malformed certificate ARN', () => {
    const arn = 'arn:aws:iam::111111111111:server-certificate/web';
    expectProblem(problemsOf((c) => (c.environments[0].ingress = { domain: 'dev.web.example.com', certificateArn: arn })), `${dev}.certificateArn`, /expected an ACM certificate ARN/, arn);
  });

  test('a malformed hosted zone id', () => {
    expectProblem(problemsOf((c) => (c.environments[0].ingress.hostedZoneId = 'dev.web.example.com')), `${dev}.hostedZoneId`, /expected a Route 53 hosted zone id/, 'dev.web.example.com');
  });

  test.each([0, 4001, 12.5])('idle timeout %p out of range', (t) => {
    expectProblem(problemsOf((c) => (c.environments[0].ingress.idleTimeoutSeconds = t)), `${dev}.idleTimeoutSeconds`, /(>=1|<=4000|expected int)/, t);
  });

  test('access-log retention of 0 days', () => {
    expectProblem(problemsOf((c) => (c.environments[0].ingress.accessLogRetentionDays = 0)), `${dev}.accessLogRetentionDays`, /accessLogRetentionDays must be at least 1 day/, 0);
  });

  test('ipv6 that is not a boolean', () => {
    expectProblem(problemsOf((c) => (c.environments[0].ingress.ipv6 = 'yes')), `${dev}.ipv6`, /expected boolean/, 'yes');
  });

  test('an unknown ingress field', () => {
    expectProblem(problemsOf((c) => (c.environments[0].ingress.certifcateArn = CERT_ARN)), dev, /unknown field: certifcateArn/, ['certifcateArn']);
  });

  test('a missing ingress section', () => {
    expectProblem(problemsOf((c) => delete c.environments[0].ingress), dev, /required field is missing/);
  });

  test('a region whose ELB log-delivery principal is unknown', () => {
    expectProblem(
      problemsOf((c) => {
        c.environments[0].region = 'eu-east-7';
        c.environments[0].availabilityZones = ['eu-east-7a', 'eu-east-7b', 'eu-east-7c'];
      }),
      'environments[0] (dev).region',
      /does not know how ELB writes ALB access logs in this region; known: af-south-1, .*us-west-2/,
      'eu-east-7',
    );
  });

  test('a project name that makes an ALB name ELB refuses', () => {
    expectProblem(problemsOf((c) => (c.project = 'internal-web')), 'environments[0] (dev).name', /the ALB name "internal-web-dev" may not start with "internal-"/, 'dev');
  });
});

describe('ELB log-delivery principals', () => {
  test('regions available before August 2022 use the regional ELB account as principal', () => {
    expect(elbLogDeliveryPrincipal('eu-west-1')).toEqual({ AWS: 'arn:aws:iam::156460612806:root' });
    expect(elbLogDeliveryPrincipal('us-east-1')).toEqual({ AWS: 'arn:aws:iam::127311923021:root' });
    expect(elbLogDeliveryPrincipal('us-gov-west-1')).toEqual({ AWS: 'arn:aws-us-gov:iam::048591011584:root' });
    expect(elbLogDeliveryPrincipal('cn-north-1')).toEqual({ AWS: 'arn:aws-cn:iam::638102146993:root' });
  });

  test('newer regions use the log-delivery service principal', () => {
    expect(elbLogDeliveryPrincipal('eu-central-2')).toEqual({ Service: 'logdelivery.elasticloadbalancing.amazonaws.com' });
    expect(elbLogDeliveryPrincipal('ap-south-2')).toEqual({ Service: ELB_LOG_DELIVERY_SERVICE });
  });

  test('an unknown region is a clear error', () => {
    expect(() => elbLogDeliveryPrincipal('xx-nowhere-1')).toThrow(/no ELB access-log delivery principal is known for region "xx-nowhere-1"; add it to stacks\/model\/elb-log-delivery\.ts/);
  });

  test('the table is well-formed: region names, 12-digit accounts, no region in both lists', () => {
    for (const [region, account] of Object.entries(ELB_ACCOUNT_BY_REGION)) {
      expect(region).toMatch(/^[a-z]{2}(-gov)?-[a-z]+-\d$/);
      expect(account).toMatch(/^\d{12}$/);
      expect(ELB_SERVICE_PRINCIPAL_REGIONS).not.toContain(region);
    }
    for (const region of ELB_SERVICE_PRINCIPAL_REGIONS) expect(region).toMatch(/^[a-z]{2}-[a-z]+-\d$/);
    expect(new Set(Object.values(ELB_ACCOUNT_BY_REGION)).size).toBe(Object.keys(ELB_ACCOUNT_BY_REGION).length);
  });
});

describe('PublicEntry', () => {
  const synth = entry();
  const json: StackJson = JSON.parse(synth);

  test('an internet-facing ALB in the three public subnets with the hardening settings', () => {
    expect(synth).toHaveResourceWithProperties(Lb, {
      name: 'p-dev',
      load_balancer_type: 'application',
      internal: false,
      drop_invalid_header_fields: true,
      desync_mitigation_mode: 'strictest',
      enable_http2: true,
      idle_timeout: 60,
      ip_address_type: 'ipv4',
      enable_deletion_protection: false,
    });
    const alb = only(json, 'aws_lb');
    expect(alb.subnets).toEqual(AZS.map((az) => ref(json, 'aws_subnet', 'id', `public-${az}`)));
    expect(alb.security_groups).toEqual([ref(json, 'aws_security_group', 'id', 'ingress')]);
  });

  test('idle timeout and deletion protection come from the props', () => {
    const alb = only(parsed({ idleTimeoutSeconds: 900, deletionProtection: true }), 'aws_lb');
    expect(alb.idle_timeout).toBe(900);
    expect(alb.enable_deletion_protection).toBe(true);
  });

  test('access logs: enabled, to the log bucket under alb/, and the ALB waits for the bucket policy', () => {
    const alb = only(json, 'aws_lb');
    expect(alb.access_logs).toEqual({ bucket: ref(json, 'aws_s3_bucket', 'bucket'), prefix: 'alb', enabled: true });
    expect(alb.depends_on).toEqual([addr(json, 'aws_s3_bucket_policy')]);
  });

  test('security group: 80 and 443 from anywhere over IPv4, egress only to the natted supernet', () => {
    expect(synth).toHaveResourceWithProperties(SecurityGroup, { name: 'p-dev-alb' });
    const ingress = resourceList(json, 'aws_vpc_security_group_ingress_rule');
    expect(ingress.map((r) => [r.ip_protocol, r.from_port, r.to_port, r.cidr_ipv4, r.cidr_ipv6]).sort()).toEqual([
      ['tcp', 443, 443, '0.0.0.0/0', undefined],
      ['tcp', 80, 80, '0.0.0.0/0', undefined],
    ]);
    const egress = resourceList(json, 'aws_vpc_security_group_egress_rule');
    expect(egress).toEqual([expect.objectContaining({ ip_protocol: 'tcp', from_port: 0, to_port: 65535, cidr_ipv4: '10.10.0.0/18' })]);
    for (const r of [...ingress, ...egress]) expect(r.security_group_id).toBe(ref(json, 'aws_security_group', 'id', 'ingress'));
    expect(only(json, 'aws_security_group').ingress).toBeUndefined();
    expect(only(json, 'aws_security_group').egress).toBeUndefined();
  });

  test('IPv6 on: dualstack ALB, 80 and 443 also from ::/0, egress still IPv4 to the natted tier only', () => {
    const v6 = parsed({ ipv6: true });
    expect(only(v6, 'aws_lb').ip_address_type).toBe('dualstack');
    const ingress = resourceList(v6, 'aws_vpc_security_group_ingress_rule');
    expect(ingress.filter((r) => r.cidr_ipv6 === '::/0').map((r) => r.from_port).sort()).toEqual([443, 80]);
    expect(ingress.filter((r) => r.cidr_ipv4 === '0.0.0.0/0').map((r) => r.from_port).sort()).toEqual([443, 80]);
    expect(resourceList(v6, 'aws_vpc_security_group_egress_rule')).toEqual([expect.objectContaining({ cidr_ipv4: '10.10.0.0/18' })]);
  });

  test('listener 80: only a permanent redirect to HTTPS 443 keeping host, path and query', () => {
    expect(synth).toHaveResourceWithProperties(LbListener, {
      port: 80,
      protocol: 'HTTP',
      default_action: [
        {
          type: 'redirect',
          redirect: { protocol: 'HTTPS', port: '443', host: '#{host}', path: '/#{path}', query: '#{query}', status_code: 'HTTP_301' },
        },
      ],
    });
  });

  test('listener 443: HTTPS with a TLS 1.3 policy, the validated certificate and a 503 "host not found" default', () => {
    expect(TLS_POLICY).toMatch(/^ELBSecurityPolicy-TLS13-/);
    expect(synth).toHaveResourceWithProperties(LbListener, {
      port: 443,
      protocol: 'HTTPS',
      ssl_policy: 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06',
      certificate_arn: ref(json, 'aws_acm_certificate_validation', 'certificate_arn'),
      default_action: [{ type: 'fixed-response', fixed_response: { status_code: '503', content_type: 'text/plain', message_body: 'host not found' } }],
    });
    const listeners = resourceList(json, 'aws_lb_listener');
    expect(listeners).toHaveLength(2);
    for (const l of listeners) expect(l.load_balancer_arn).toBe(ref(json, 'aws_lb', 'arn'));
  });

  test('certificate: ACM for the domain and its wildcard, DNS validation, replaced before destroyed', () => {
    expect(synth).toHaveResourceWithProperties(AcmCertificate, {
      domain_name: 'dev.example.com',
      subject_alternative_names: ['*.dev.example.com'],
      validation_method: 'DNS',
      lifecycle: { create_before_destroy: true },
    });
  });

  test('one validation record per non-wildcard name, in the zone, keyed by domain name (known at plan time)', () => {
    const record = only(json, 'aws_route53_record');
    expect(record).toMatchObject({
      zone_id: ZONE,
      name: '${each.value.resource_record_name}',
      type: '${each.value.resource_record_type}',
      records: ['${each.value.resource_record_value}'],
      ttl: 60,
      allow_overwrite: false,
    });
    // The apex and the wildcard share one CNAME: the wildcard is filtered out, so there is one record.
    expect(record.for_each).toContain(`${addr(json, 'aws_acm_certificate')}.domain_validation_options:`);
    expect(record.for_each).toContain('val.domain_name => val');
    expect(record.for_each).toContain('if !startswith(key, "*.")');
    // Iterated as a set: tolist() of partly unknown objects is unknown at plan time and breaks for_each.
    expect(record.for_each).not.toMatch(/tolist|toset/);
  });

  test('the certificate validation waits for the records; the listener uses its ARN', () => {
    const validation = only(json, 'aws_acm_certificate_validation');
    expect(validation.certificate_arn).toBe(ref(json, 'aws_acm_certificate', 'arn'));
    expect(validation.validation_record_fqdns).toBe(`\${[ for key, val in ${addr(json, 'aws_route53_record')}: val.fqdn]}`);
  });

  test('an existing certificate: no ACM or Route 53 resources, the listener uses the ARN as given', () => {
    const ext = parsed({ certificate: EXISTING });
    expect(resourceList(ext, 'aws_acm_certificate')).toHaveLength(0);
    expect(resourceList(ext, 'aws_acm_certificate_validation')).toHaveLength(0);
    expect(resourceList(ext, 'aws_route53_record')).toHaveLength(0);
    expect(resourceList(ext, 'aws_lb_listener').find((l) => l.port === 443).certificate_arn).toBe(CERT_ARN);
  });

  test('log bucket: dedicated, SSE-S3 (ELB cannot write to SSE-KMS), versioned, private, TLS-only', () => {
    expect(only(json, 'aws_s3_bucket').bucket).toBe('p-dev-alb-logs-111111111111-eu-west-1');
    expect(synth).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'AES256' } }],
    });
    expect(JSON.stringify(resources(json, 'aws_s3_bucket_server_side_encryption_configuration'))).not.toMatch(/aws:kms/);
    expect(only(json, 'aws_s3_bucket_public_access_block')).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
    expect(only(json, 'aws_s3_bucket_versioning').versioning_configuration.status).toBe('Enabled');
    const doc = JSON.parse(only(json, 'aws_s3_bucket_policy').policy);
    expect(doc.Statement[0]).toMatchObject({ Sid: 'DenyInsecureTransport', Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
  });

  test('bucket policy: only PutObject for the region ELB principal, under alb/AWSLogs/<account>/', () => {
    const doc = JSON.parse(only(json, 'aws_s3_bucket_policy').policy);
    expect(doc.Statement).toHaveLength(2);
    expect(doc.Statement[1]).toEqual({
      Sid: 'ElbAccessLogDelivery',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::156460612806:root' },
      Action: 's3:PutObject',
      Resource: 'arn:aws:s3:::p-dev-alb-logs-111111111111-eu-west-1/alb/AWSLogs/111111111111/*',
    });
  });

  test('bucket policy in a region opened after August 2022: the log-delivery service principal', () => {
    const zurich = parsed({ region: 'eu-central-2' });
    const doc = JSON.parse(only(zurich, 'aws_s3_bucket_policy').policy);
    expect(doc.Statement[1].Principal).toEqual({ Service: 'logdelivery.elasticloadbalancing.amazonaws.com' });
    expect(doc.Statement[1].Resource).toBe('arn:aws:s3:::p-dev-alb-logs-111111111111-eu-central-2/alb/AWSLogs/111111111111/*');
  });

  test('access logs expire after the retention days; noncurrent copies a day later', () => {
    const rules = only(parsed({ accessLogRetentionDays: 90 }), 'aws_s3_bucket_lifecycle_configuration').rule;
    expect(rules).toContainEqual({ id: 'expire-alb-access-logs', status: 'Enabled', filter: [{ prefix: 'alb/' }], expiration: [{ days: 90 }] });
    expect(rules).toContainEqual(expect.objectContaining({ id: 'expire-noncurrent-versions', noncurrent_version_expiration: [{ noncurrent_days: 1 }] }));
  });

  test('no data sources: the plan needs no AWS API', () => {
    expect(json.data).toBeUndefined();
    expect(parsed({ certificate: EXISTING, ipv6: true }).data).toBeUndefined();
  });

  test('validates its props before creating anything', () => {
    const bad = (over: Partial<PublicEntryProps> & Partial<EnvNameParts>) => () => entry(over);
    expect(bad({ domain: 'https://dev.example.com' })).toThrow(/PublicEntry: domain must be a lower-case DNS domain .*, got "https:\/\/dev\.example\.com"/);
    expect(bad({ certificate: { kind: 'acm-dns', hostedZoneId: 'zone' } })).toThrow(/certificate\.hostedZoneId must be a Route 53 hosted zone id .*, got "zone"/);
    expect(bad({ certificate: { kind: 'existing', certificateArn: 'arn:aws:acm:eu-west-1:1:certificate/x' } })).toThrow(/certificate\.certificateArn must be an ACM certificate ARN/);
    expect(bad({ certificate: { kind: 'existing', certificateArn: CERT_ARN.replace('eu-west-1', 'us-east-1') } })).toThrow(
      /certificate\.certificateArn must be an ACM certificate in the ALB's region eu-west-1 \(this one is in us-east-1\)/,
    );
    expect(bad({ certificate: { kind: 'imported' } as unknown as EntryCertificate })).toThrow(/certificate\.kind must be "acm-dns" or "existing", got "imported"/);
    expect(bad({ idleTimeoutSeconds: 0 })).toThrow(/idleTimeoutSeconds must be a whole number of seconds from 1 to 4000, got 0/);
    expect(bad({ idleTimeoutSeconds: 4001 })).toThrow(/idleTimeoutSeconds .* got 4001/);
    expect(bad({ accessLogRetentionDays: 0.5 })).toThrow(/accessLogRetentionDays must be a whole number of days >= 1, got 0\.5/);
    expect(bad({ nattedSupernet: '10.10.0.1/18' })).toThrow(/nattedSupernet must be an IPv4 network CIDR .*host bits set/);
    expect(bad({ account: '1111' })).toThrow(/NamingScope: account must be a 12-digit AWS account id, got "1111"/);
    expect(bad({ region: 'xx-nowhere-1' })).toThrow(/region must be a region whose ELB access-log delivery principal is known \(.*\); add a new region/);
    expect(bad({ project: 'internal' })).toThrow(/ALB name .* may not start with "internal-", got "internal-dev"/);
    expect(() =>
      synthScoped((scope) => {
        const net = new VpcNetwork(scope, 'net', { plan, availabilityZones: AZS });
        new PublicEntry(scope, 'ingress', {
          vpcId: net.vpc.id, publicSubnets: net.subnets.public.slice(0, 2),
          nattedSupernet: '10.10.0.0/18', domain: 'dev.example.com', certificate: ACM_DNS,
        });
      }),
    ).toThrow(/publicSubnets must be exactly 3 subnets, one per AZ, got "2 subnets"/);
  });
});

describe('the public entry in the environment stacks', () => {
  const cfg = exampleConfig();

  test.each([
    ['dev', false, 'ipv4'],
    ['staging', false, 'ipv4'],
    ['prod', true, 'dualstack'],
  ] as const)('%s: deletion protection %p, %s', (env, production, ipType) => {
    const json = synthStack(env, cfg);
    const alb = only(json, 'aws_lb');
    expect(alb.name).toBe(`acme-web-${env}`);
    expect(alb.enable_deletion_protection).toBe(production);
    expect(alb.ip_address_type).toBe(ipType);
  });

  test('the natted supernet of the environment is the only egress destination', () => {
    const json = synthStack('prod', cfg);
    expect(resourceList(json, 'aws_vpc_security_group_egress_rule').filter((r) => r.security_group_id === '${aws_security_group.ingress_sg.id}')).toEqual([
      expect.objectContaining({ cidr_ipv4: '10.30.0.0/18' }),
    ]);
  });

  test('outputs: ALB ARN, DNS name and zone id, HTTPS listener ARN, ALB security group id', () => {
    const out = synthStack('dev', cfg).output!;
    expect(out.alb_arn.value).toBe('${aws_lb.ingress_alb.arn}');
    expect(out.alb_dns_name.value).toBe('${aws_lb.ingress_alb.dns_name}');
    expect(out.alb_zone_id.value).toBe('${aws_lb.ingress_alb.zone_id}');
    expect(out.https_listener_arn.value).toBe('${aws_lb_listener.ingress_https.arn}');
    expect(out.alb_security_group_id.value).toBe('${aws_security_group.ingress_sg.id}');
  });

  test('an environment with an existing certificate has no ACM or Route 53 resources', () => {
    const c = exampleConfig((c) => (c.environments[0].ingress = { domain: 'dev.web.example.com', certificateArn: CERT_ARN }));
    const json = synthStack('dev', c);
    expect(resources(json, 'aws_acm_certificate')).toEqual({});
    expect(resources(json, 'aws_route53_record')).toEqual({});
    expect(resourceList(json, 'aws_lb_listener').find((l) => l.protocol === 'HTTPS').certificate_arn).toBe(CERT_ARN);
  });

  test('ingress settings reach the ALB and the log bucket', () => {
    const c = exampleConfig((c) => Object.assign(c.environments[1].ingress, { idleTimeoutSeconds: 300, accessLogRetentionDays: 14 }));
    const json = synthStack('staging', c);
    expect(only(json, 'aws_lb').idle_timeout).toBe(300);
    const logRules = resourceList(json, 'aws_s3_bucket_lifecycle_configuration').flatMap((l) => l.rule);
    expect(logRules).toContainEqual(expect.objectContaining({ id: 'expire-alb-access-logs', expiration: [{ days: 14 }] }));
  });
});

describe('no listener anywhere serves plain HTTP except the redirect', () => {
  const stacks = ['bootstrap', ...exampleConfig().environments.map((e) => e.name)];
  const listeners = stacks.flatMap((stack) => {
    const json = synthStack(stack);
    return ['aws_lb_listener', 'aws_alb_listener'].flatMap((type) => Object.entries(resources(json, type)).map(([id, l]) => ({ where: `${stack}: ${type}.${id}`, l })));
  });

  test('every environment has listeners to check', () => {
    expect(listeners.length).toBeGreaterThanOrEqual(2 * (stacks.length - 1));
  });

  test.each(listeners.map((x) => [x.where, x.l]))('%s', (_where, l: any) => {
    expect(['HTTP', 'HTTPS']).toContain(l.protocol);
    if (l.protocol === 'HTTP') {
      expect(l.default_action).toHaveLength(1);
      expect(l.default_action[0]).toMatchObject({ type: 'redirect', redirect: { protocol: 'HTTPS', port: '443', status_code: 'HTTP_301' } });
    } else {
      expect(l.ssl_policy).toMatch(/^ELBSecurityPolicy-TLS13-/);
    }
  });
});
