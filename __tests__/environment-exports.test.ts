import { AlarmTopic } from '../stacks/constructs/observability/alarm-topic';
import { ENVIRONMENT_EXPORT_DESCRIPTIONS } from '../stacks/constructs/environment-exports';
import { synthScoped } from './support/scope';
import { resourceList, synthStack } from './support/synth';

const KEY = 'arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-4000-8000-000000000000';

describe('EnvironmentStack exports', () => {
  const json = synthStack('dev');
  const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

  test('every export of the contract is an output of the same name with its description', () => {
    for (const [key, description] of Object.entries(ENVIRONMENT_EXPORT_DESCRIPTIONS)) {
      expect(json.output![snake(key)]).toEqual(expect.objectContaining({ description }));
    }
  });

  test('exports point at the resources customers need', () => {
    const out = (k: string) => json.output![k].value;
    expect(out('vpc_id')).toBe('${aws_vpc.network_vpc.id}');
    expect(out('natted_subnet_ids')).toEqual(['a', 'b', 'c'].map((z) => `\${aws_subnet.network_natted-eu-west-1${z}.id}`));
    expect(out('private_subnet_ids')).toEqual(['a', 'b', 'c'].map((z) => `\${aws_subnet.network_private-eu-west-1${z}.id}`));
    expect(out('https_listener_arn')).toBe('${aws_lb_listener.ingress_https.arn}');
    expect(out('alb_arn_suffix')).toBe('${aws_lb.ingress_alb.arn_suffix}');
    expect(out('alarm_topic_arn')).toBe('arn:aws:sns:eu-west-1:111111111111:acme-web-dev-alarms');
  });

  test('the alarm topic is encrypted with the environment key, and prod mails its subscribers', () => {
    expect(resourceList(json, 'aws_sns_topic')).toEqual([expect.objectContaining({ name: 'acme-web-dev-alarms', kms_master_key_id: '${aws_kms_key.security_key_key.arn}' })]);
    expect(resourceList(json, 'aws_sns_topic_subscription')).toEqual([]);
    expect(resourceList(synthStack('prod'), 'aws_sns_topic_subscription')).toEqual([expect.objectContaining({ protocol: 'email', endpoint: 'ops@example.com' })]);
  });
});

describe('AlarmTopic', () => {
  const policy = (emails?: string[]) => {
    let doc: any;
    synthScoped((scope) => {
      doc = new AlarmTopic(scope, 'alarms', { kmsKeyArn: KEY, emails }).policyDocument;
    });
    return doc;
  };

  test("only this environment's CloudWatch alarms publish, over TLS", () => {
    const [allow, deny] = policy().Statement;
    expect(allow).toEqual(expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Resource: 'arn:aws:sns:eu-west-1:111111111111:p-dev-alarms' }));
    expect(allow.Condition).toEqual({ StringEquals: { 'aws:SourceAccount': '111111111111' }, ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:111111111111:alarm:p-dev-*' } });
    expect(deny).toEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  });

  test.each([
    [['not-an-address'], /emails\[0\] must be an e-mail address such as ops@example.com, got "not-an-address"/],
    [['a@example.com', 'a@example.com'], /emails must not repeat an address/],
  ])('refuses emails %j', (emails, message) => {
    expect(() => policy(emails)).toThrow(message);
  });
});
