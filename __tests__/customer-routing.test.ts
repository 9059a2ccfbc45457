import { TerraformOutput } from 'cdktf';
import { CustomerRouting, CustomerRoutingProps } from '../stacks/constructs/customer/routing';
import { CustomDomain } from '../stacks/model/customers';
import { customerNames } from '../stacks/model/naming';
import { TEST_ENVIRONMENT, testCustomer } from './support/customer';
import { TEST_SCOPE, synthScoped } from './support/scope';
import { StackJson, resourceList, resources } from './support/synth';

const ENV_ZONE = 'Z0DEV0000000000000001';
const SHOP_ZONE = 'Z0SHOP000000000000001';
const CERT_ARN = 'arn:aws:acm:eu-west-1:111111111111:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';
const WITH_ZONE: CustomDomain = { name: 'www.shop.example', hostedZoneId: SHOP_ZONE };
const WITH_CERT: CustomDomain = { name: 'shop.example.org', certificateArn: CERT_ARN };

/** Props for customer "shop" with the environment zone, IPv4 only; `over` replaces props. */
function props(over: Partial<CustomerRoutingProps> = {}): CustomerRoutingProps {
  return { customer: 'shop', settings: testCustomer(), environment: TEST_ENVIRONMENT, environmentHostedZoneId: ENV_ZONE, ipv6: false, ...over };
}

/** Customer settings with these custom domains (hosts follow). */
function withDomains(...domains: CustomDomain[]) {
  const base = testCustomer();
  return testCustomer({ customDomains: domains, hosts: [base.defaultHost, ...domains.map((d) => d.name)] });
}

function synth(over: Partial<CustomerRoutingProps> = {}): { json: StackJson; routing: CustomerRouting } {
  let routing!: CustomerRouting;
  const json = JSON.parse(synthScoped((scope) => (routing = new CustomerRouting(scope, 'routing', props(over)))));
  return { json, routing };
}

function only(json: StackJson, type: string): any {
  const list = resourceList(json, type);
  expect(list).toHaveLength(1);
  return list[0];
}

/** Address `type.logicalId` of the only resource of a type whose logical id contains `part`. */
function addr(json: StackJson, type: string, part = ''): string {
  const ids = Object.keys(resources(json, type)).filter((id) => id.includes(part));
  expect(ids).toHaveLength(1);
  return `${type}.${ids[0]}`;
}
const ref = (json: StackJson, type: string, attr: string, part = '') => `\${${addr(json, type, part)}.${attr}}`;

/** Alias records (records with an alias block) as { zone, name, type }, sorted. */
function aliases(json: StackJson) {
  return resourceList(json, 'aws_route53_record')
    .filter((r) => r.alias !== undefined)
    .map((r) => {
      expect(r.alias).toEqual({ name: TEST_ENVIRONMENT.albDnsName, zone_id: TEST_ENVIRONMENT.albZoneId, evaluate_target_health: true });
      return `${r.zone_id} ${r.name} ${r.type}`;
    })
    .sort();
}

describe('CustomerRouting: target group and listener rule', () => {
  test('target group: HTTP on the app port, instances in the VPC, health check from settings, 30 s deregistration delay', () => {
    const { json } = synth({ settings: testCustomer({ web: { ...testCustomer().web, appPort: 3000, healthCheckPath: '/up', healthCheckMatcher: '200-299' } }) });
    const tg = only(json, 'aws_lb_target_group');
    const name = customerNames(TEST_SCOPE, 'shop').targetGroup;
    expect(tg).toMatchObject({
      name,
      port: 3000,
      protocol: 'HTTP',
      target_type: 'instance',
      vpc_id: TEST_ENVIRONMENT.vpcId,
      deregistration_delay: '30',
      tags: { Name: name, customer: 'shop' },
    });
    expect(tg.health_check).toEqual({
      enabled: true,
      protocol: 'HTTP',
      port: 'traffic-port',
      path: '/up',
      matcher: '200-299',
      interval: 15,
      healthy_threshold: 2,
      unhealthy_threshold: 3,
      timeout: 5,
    });
  });

  test('a long customer name gives a target group name within 32 characters', () => {
    const { json } = synthLong();
    const name: string = only(json, 'aws_lb_target_group').name;
    expect(name.length).toBeLessThanOrEqual(32);
    expect(name).toBe(customerNames({ project: 'platform-project-x', env: 'staging' }, 'a-very-long-customer').targetGroup);
  });

  test('one listener rule on the HTTPS listener: the given priority, every host in one host-header condition, forward to the target group', () => {
    const settings = { ...withDomains(WITH_ZONE, WITH_CERT), rulePriority: 31337 };
    const { json } = synth({ settings });
    const rule = only(json, 'aws_lb_listener_rule');
    expect(rule.listener_arn).toBe(TEST_ENVIRONMENT.httpsListenerArn);
    expect(rule.priority).toBe(31337);
    expect(rule.condition).toEqual([{ host_header: { values: ['shop.dev.example.com', 'www.shop.example', 'shop.example.org'] } }]);
    expect(rule.action).toEqual([{ type: 'forward', target_group_arn: ref(json, 'aws_lb_target_group', 'arn') }]);
    expect(rule.tags).toMatchObject({ customer: 'shop' });
  });

  test('exposes the target group ARN and ARN suffix as references to the target group', () => {
    const json: StackJson = JSON.parse(
      synthScoped((scope) => {
        const routing = new CustomerRouting(scope, 'routing', props());
        new TerraformOutput(scope, 'tg-arn', { value: routing.targetGroupArn });
        new TerraformOutput(scope, 'tg-arn-suffix', { value: routing.targetGroupArnSuffix });
        new TerraformOutput(scope, 'rule-arn', { value: routing.listenerRule.arn });
      }),
    );
    const outputs = Object.fromEntries(Object.entries(json.output ?? {}).map(([k, o]: [string, any]) => [k, o.value]));
    expect(outputs).toEqual({
      'tg-arn': ref(json, 'aws_lb_target_group', 'arn'),
      'tg-arn-suffix': ref(json, 'aws_lb_target_group', 'arn_suffix'),
      'rule-arn': ref(json, 'aws_lb_listener_rule', 'arn'),
    });
  });
});

function synthLong() {
  return {
    json: JSON.parse(
      synthScoped(
        (scope) => {
          const host = 'a-very-long-customer.dev.example.com';
          new CustomerRouting(scope, 'routing', props({ customer: 'a-very-long-customer', settings: testCustomer({ name: 'a-very-long-customer', defaultHost: host, hosts: [host] }) }));
        },
        { project: 'platform-project-x', env: 'staging' },
      ),
    ) as StackJson,
  };
}

describe('CustomerRouting: DNS of the default host', () => {
  test.each([
    ['with the environment zone, IPv4', ENV_ZONE, false, [`${ENV_ZONE} shop.dev.example.com A`], []],
    ['with the environment zone, dualstack', ENV_ZONE, true, [`${ENV_ZONE} shop.dev.example.com A`, `${ENV_ZONE} shop.dev.example.com AAAA`], []],
    ['without a zone (existing certificate), IPv4', undefined, false, [], ['shop.dev.example.com']],
    ['without a zone (existing certificate), dualstack', undefined, true, [], ['shop.dev.example.com']],
  ])('%s', (_, zone, ipv6, expectedRecords, expectedUnmanaged) => {
    const { json, routing } = synth({ environmentHostedZoneId: zone, ipv6 });
    expect(aliases(json)).toEqual(expectedRecords);
    expect(routing.defaultHostRecords).toHaveLength(expectedRecords.length);
    expect(routing.records).toHaveLength(expectedRecords.length);
    expect(routing.unmanagedHosts).toEqual(expectedUnmanaged.map((host) => ({ host, dnsName: TEST_ENVIRONMENT.albDnsName, zoneId: TEST_ENVIRONMENT.albZoneId })));
  });
});

describe('CustomerRouting: custom domains', () => {
  test.each([
    ['IPv4', false, ['A']],
    ['dualstack', true, ['A', 'AAAA']],
  ])('with a hosted zone (%s): DNS-validated certificate, validation records, listener certificate after validation, alias records', (_, ipv6, types) => {
    const { json, routing } = synth({ settings: withDomains(WITH_ZONE), ipv6 });
    const cert = only(json, 'aws_acm_certificate');
    expect(cert).toMatchObject({ domain_name: 'www.shop.example', validation_method: 'DNS', lifecycle: { create_before_destroy: true }, tags: { customer: 'shop' } });
    expect(cert.subject_alternative_names).toBeUndefined();

    const validationId = addr(json, 'aws_route53_record', 'validation');
    const validation = resources(json, 'aws_route53_record')[validationId.split('.')[1]!];
    expect(validation).toMatchObject({ zone_id: SHOP_ZONE, ttl: 60, allow_overwrite: false, name: '${each.value.resource_record_name}', type: '${each.value.resource_record_type}' });
    expect(validation.for_each).toContain(`${addr(json, 'aws_acm_certificate')}.domain_validation_options`);

    const certValidation = only(json, 'aws_acm_certificate_validation');
    expect(certValidation.certificate_arn).toBe(ref(json, 'aws_acm_certificate', 'arn'));
    expect(certValidation.validation_record_fqdns).toContain(validationId);

    const attached = only(json, 'aws_lb_listener_certificate');
    expect(attached).toEqual({ listener_arn: TEST_ENVIRONMENT.httpsListenerArn, certificate_arn: ref(json, 'aws_acm_certificate_validation', 'certificate_arn') });

    expect(aliases(json)).toEqual([
      ...types.map((t) => `${ENV_ZONE} shop.dev.example.com ${t}`),
      ...types.map((t) => `${SHOP_ZONE} www.shop.example ${t}`),
    ].sort());
    expect(routing.customDomains).toHaveLength(1);
    expect(routing.customDomains[0]!.records).toHaveLength(types.length);
    expect(routing.unmanagedHosts).toEqual([]);
  });

  test.each([
    ['IPv4', false],
    ['dualstack', true],
  ])('with a certificate ARN (%s): only the listener certificate; DNS is the customer\'s to point at the ALB', (_, ipv6) => {
    const { json, routing } = synth({ settings: withDomains(WITH_CERT), ipv6 });
    expect(resourceList(json, 'aws_acm_certificate')).toHaveLength(0);
    expect(resourceList(json, 'aws_acm_certificate_validation')).toHaveLength(0);
    expect(only(json, 'aws_lb_listener_certificate')).toEqual({ listener_arn: TEST_ENVIRONMENT.httpsListenerArn, certificate_arn: CERT_ARN });
    expect(aliases(json).filter((r) => r.includes('shop.example.org'))).toEqual([]);
    expect(routing.customDomains[0]).toMatchObject({ name: 'shop.example.org', records: [] });
    expect(routing.unmanagedHosts).toEqual([{ host: 'shop.example.org', dnsName: TEST_ENVIRONMENT.albDnsName, zoneId: TEST_ENVIRONMENT.albZoneId }]);
  });

  test('one listener certificate per custom domain', () => {
    const { json } = synth({ settings: withDomains(WITH_ZONE, WITH_CERT, { name: 'api.shop.example', hostedZoneId: SHOP_ZONE }) });
    expect(resourceList(json, 'aws_lb_listener_certificate')).toHaveLength(3);
    expect(resourceList(json, 'aws_acm_certificate')).toHaveLength(2);
  });

  test('no data sources', () => {
    const { json } = synth({ settings: withDomains(WITH_ZONE, WITH_CERT), ipv6: true });
    expect(json.data ?? {}).toEqual({});
  });
});

describe('CustomerRouting: validation', () => {
  const web = testCustomer().web;
  test.each<[string, Partial<CustomerRoutingProps>, RegExp]>([
    ['customer name', { customer: 'Shop' }, /customer must be .*a-z.*got "Shop"/],
    ['settings of another customer', { settings: testCustomer({ name: 'other' }) }, /settings\.name must be the customer's name "shop", got "other"/],
    ['priority 0', { settings: testCustomer({ rulePriority: 0 }) }, /settings\.rulePriority must be a whole number from 1 to 50000 .*got 0/],
    ['priority 50001', { settings: testCustomer({ rulePriority: 50001 }) }, /settings\.rulePriority must be a whole number from 1 to 50000 .*got 50001/],
    ['priority 1.5', { settings: testCustomer({ rulePriority: 1.5 }) }, /settings\.rulePriority .*got 1\.5/],
    ['no hosts', { settings: testCustomer({ hosts: [] }) }, /settings\.hosts must be 1 to 5 host names.*got \[\]/],
    ['six hosts', { settings: testCustomer({ hosts: ['shop.dev.example.com', 'a.x.com', 'b.x.com', 'c.x.com', 'd.x.com', 'e.x.com'] }) }, /settings\.hosts must be 1 to 5 host names/],
    ['upper-case host', { settings: testCustomer({ hosts: ['shop.dev.example.com', 'WWW.shop.example'] }) }, /settings\.hosts\[1\] must be a lower-case DNS name.*got "WWW\.shop\.example"/],
    ['wildcard host', { settings: testCustomer({ hosts: ['shop.dev.example.com', '*.shop.example'] }) }, /settings\.hosts\[1\] must be a lower-case DNS name.*got "\*\.shop\.example"/],
    ['duplicate host', { settings: testCustomer({ hosts: ['shop.dev.example.com', 'shop.dev.example.com'] }) }, /settings\.hosts\[1\] must be a host name not listed twice/],
    ['default host not in hosts', { settings: testCustomer({ hosts: ['other.dev.example.com'] }) }, /settings\.defaultHost must be one of settings\.hosts.*got "shop\.dev\.example\.com"/],
    ['custom domain not in hosts', { settings: testCustomer({ customDomains: [WITH_ZONE] }) }, /settings\.customDomains\[0\]\.name must be one of settings\.hosts.*got "www\.shop\.example"/],
    ['custom domain with zone and certificate', { settings: withDomains({ name: 'www.shop.example', hostedZoneId: SHOP_ZONE, certificateArn: CERT_ARN }) }, /settings\.customDomains\[0\] must be exactly one of hostedZoneId .* and certificateArn/],
    ['custom domain with neither', { settings: withDomains({ name: 'www.shop.example' }) }, /settings\.customDomains\[0\] must be exactly one of hostedZoneId/],
    ['bad custom domain zone', { settings: withDomains({ name: 'www.shop.example', hostedZoneId: 'shop-zone' }) }, /settings\.customDomains\[0\]\.hostedZoneId must be a Route 53 hosted zone id.*got "shop-zone"/],
    ['bad certificate ARN', { settings: withDomains({ name: 'www.shop.example', certificateArn: 'arn:aws:iam::111111111111:server-certificate/x' }) }, /settings\.customDomains\[0\]\.certificateArn must be an ACM certificate ARN, got "arn:aws:iam/],
    ['certificate in another region', { settings: withDomains({ name: 'www.shop.example', certificateArn: CERT_ARN.replace('eu-west-1', 'us-east-1') }) }, /settings\.customDomains\[0\]\.certificateArn must be an ACM certificate in the ALB's region eu-west-1 \(this one is in us-east-1\)/],
    ['bad environment zone', { environmentHostedZoneId: 'dev' }, /environmentHostedZoneId must be a Route 53 hosted zone id.*got "dev"/],
    ['privileged app port', { settings: testCustomer({ web: { ...web, appPort: 80 } }) }, /settings\.web\.appPort must be a whole number from 1024 to 65535.*got 80/],
    ['app port too high', { settings: testCustomer({ web: { ...web, appPort: 70000 } }) }, /settings\.web\.appPort must be a whole number from 1024 to 65535.*got 70000/],
    ['health check path without "/"', { settings: testCustomer({ web: { ...web, healthCheckPath: 'healthz' } }) }, /settings\.web\.healthCheckPath must be a URL path.*got "healthz"/],
    ['health check matcher 500', { settings: testCustomer({ web: { ...web, healthCheckMatcher: '500' } }) }, /settings\.web\.healthCheckMatcher must be HTTP codes from 200 to 499.*got "500"/],
  ])('%s', (_, over, message) => {
    let created = 0;
    expect(() =>
      synthScoped((scope) => {
        new CustomerRouting(scope, 'routing', props(over));
        created++;
      }),
    ).toThrow(message);
    expect(created).toBe(0);
  });

  test('the valid defaults pass (the table above fails only for its own reason)', () => {
    expect(() => synth({ settings: withDomains(WITH_ZONE, WITH_CERT) })).not.toThrow();
  });

  test('nothing is created before validation fails', () => {
    let childCount = -1;
    synthScoped((scope) => {
      expect(() => new CustomerRouting(scope, 'routing', props({ settings: testCustomer({ rulePriority: 0 }) }))).toThrow(/rulePriority/);
      childCount = scope.node.findAll().filter((c) => c.node.path.includes('routing/')).length;
    });
    expect(childCount).toBe(0);
  });
});
