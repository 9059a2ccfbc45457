/**
 * Load-balancer shards in the stacks: an environment has `ingress.shards` ALBs, each a full public
 * entry, and a customer's rule and DNS go to its shard. The model (loads, budgets, overflows,
 * proposals, config errors) is tested in shards-model.test.ts.
 */
import { PublicEntry } from '../stacks/constructs/ingress/public-entry';
import { VpcNetwork } from '../stacks/constructs/network/vpc-network';
import { forShard } from '../stacks/constructs/environment-exports';
import { planNetwork } from '../stacks/model/ip-plan';
import { exampleConfig } from './support/config';
import { TEST_ENVIRONMENT, TEST_SHARD1 } from './support/customer';
import { synthScoped } from './support/scope';
import { resourceList, resources, synthAllStacks } from './support/synth';

describe('shards in the stacks', () => {
  const cfg = exampleConfig((c) => {
    c.environments[0].ingress.shards = 2;
    c.customers[1].shard = 1;
  });
  const all = synthAllStacks(cfg);
  const dev = all.get('dev')!;

  test('each shard is a full public entry: ALB, SG, 80→443, 443 with TLS 1.3 and the 503 default, the env certificate, access logs', () => {
    expect(Object.keys(resources(dev, 'aws_lb')).sort()).toEqual(['ingress-s1_alb', 'ingress_alb']);
    const s1 = resources(dev, 'aws_lb')['ingress-s1_alb'];
    expect(s1).toMatchObject({ name: 'acme-web-dev-s1', security_groups: ['${aws_security_group.ingress-s1_sg.id}'], access_logs: { bucket: '${aws_s3_bucket.ingress_access-logs_bucket.bucket}', prefix: 'alb', enabled: true } });
    expect(resources(dev, 'aws_security_group')['ingress-s1_sg']).toMatchObject({ name: 'acme-web-dev-alb-s1' });
    const listeners = resources(dev, 'aws_lb_listener');
    expect(listeners['ingress-s1_http']).toMatchObject({ port: 80, default_action: [expect.objectContaining({ type: 'redirect' })] });
    const https = listeners['ingress-s1_https'];
    expect(https).toMatchObject({ port: 443, ssl_policy: listeners['ingress_https'].ssl_policy, certificate_arn: listeners['ingress_https'].certificate_arn, default_action: listeners['ingress_https'].default_action });
    // One log bucket, one certificate: shared, not duplicated.
    expect(resourceList(dev, 'aws_acm_certificate')).toHaveLength(1);
    expect(Object.keys(resources(dev, 'aws_s3_bucket')).filter((k) => k.includes('access-logs'))).toEqual(['ingress_access-logs_bucket']);
  });

  test('shard 0 keeps the single-ALB resource ids and names', () => {
    expect(resources(dev, 'aws_lb')['ingress_alb'].name).toBe('acme-web-dev');
    expect(resources(dev, 'aws_security_group')['ingress_sg'].name).toBe('acme-web-dev-alb');
  });

  test('a customer on shard 1 attaches its rule to shard 1 and points its DNS at shard 1', () => {
    const blog = all.get('dev-blog')!;
    expect(resourceList(blog, 'aws_lb_listener_rule')[0].listener_arn).toBe('${aws_lb_listener.ingress-s1_https.arn}');
    expect(resourceList(blog, 'aws_route53_record')[0].alias).toMatchObject({ name: '${aws_lb.ingress-s1_alb.dns_name}', zone_id: '${aws_lb.ingress-s1_alb.zone_id}' });
    const shop = all.get('dev-shop')!;
    expect(resourceList(shop, 'aws_lb_listener_rule')[0].listener_arn).toBe('${aws_lb_listener.ingress_https.arn}');
  });

  test('the environment outputs every shard', () => {
    expect(dev.output!.shards.value).toEqual([
      expect.objectContaining({ alb_dns_name: '${aws_lb.ingress_alb.dns_name}' }),
      expect.objectContaining({ alb_dns_name: '${aws_lb.ingress-s1_alb.dns_name}', https_listener_arn: '${aws_lb_listener.ingress-s1_https.arn}' }),
    ]);
  });

  test('forShard gives a customer its shard\'s ALB fields; an unknown shard is refused', () => {
    expect(forShard(TEST_ENVIRONMENT, 1)).toMatchObject(TEST_SHARD1);
    expect(() => forShard(TEST_ENVIRONMENT, 2)).toThrow(/shard must be one of 0-1/);
  });

  test('PublicEntry: shard n needs shard 0 as primary; shard 0 takes none', () => {
    const build = (shard: number, withPrimary: boolean) =>
      synthScoped((scope) => {
        const azs = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];
        const net = new VpcNetwork(scope, 'net', { plan: planNetwork('10.10.0.0/16', azs), availabilityZones: azs });
        const props = { vpcId: net.vpc.id, publicSubnets: net.subnets.public, nattedSupernet: '10.10.0.0/18', domain: 'dev.example.com', certificate: { kind: 'acm-dns', hostedZoneId: 'Z0DEV0000000000000001' } as const };
        const first = new PublicEntry(scope, 'ingress', props);
        new PublicEntry(scope, `ingress-s${shard}`, { ...props, shard, primary: withPrimary ? first : undefined });
      });
    expect(() => build(1, false)).toThrow(/primary must be shard 0's PublicEntry for shard 1/);
    expect(() => build(0, true)).toThrow(/primary must be absent for shard 0/);
    expect(() => build(1, true)).not.toThrow();
  });
});
