import { Construct } from 'constructs';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { EMAIL } from '../../model/config/schema';
import { PolicyDocument, policyDocument, policyJson, regionalArn } from '../../model/iam-policy';
import { alarmTopicName, envName } from '../../model/naming';
import { NamingScope } from '../naming-scope';

export interface AlarmTopicProps {
  /** The environment KMS key: the topic is encrypted with it (its policy lets CloudWatch alarms use it). */
  readonly kmsKeyArn: string;
  /** E-mail addresses subscribed to the topic; each confirms by mail. @default none */
  readonly emails?: readonly string[];
}

/**
 * The environment's alarm topic: every customer alarm publishes here. KMS-encrypted with the
 * environment key; only CloudWatch alarms of this environment (`<project>-<env>-*`) may publish,
 * and only over TLS.
 */
export class AlarmTopic extends Construct {
  readonly topic: SnsTopic;
  /** Literal ARN of the topic (readable in plans and known before apply). */
  readonly arn: string;
  readonly policyDocument: PolicyDocument;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    const emails = props.emails ?? [];
    emails.forEach((e, i) => {
      if (!EMAIL.test(e)) throw new Error(`AlarmTopic: emails[${i}] must be an e-mail address such as ops@example.com, got ${JSON.stringify(e)}`);
    });
    if (new Set(emails).size !== emails.length) throw new Error(`AlarmTopic: emails must not repeat an address, got ${JSON.stringify(emails)}`);

    const name = alarmTopicName(ns);
    this.arn = regionalArn(ns, 'sns', name);
    this.topic = new SnsTopic(this, 'topic', { name, kmsMasterKeyId: props.kmsKeyArn, tags: { Name: name } });
    this.policyDocument = policyDocument(
      {
        Sid: 'AlarmsOfThisEnvironmentPublish',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: this.arn,
        Condition: {
          StringEquals: { 'aws:SourceAccount': ns.account },
          ArnLike: { 'aws:SourceArn': regionalArn(ns, 'cloudwatch', `alarm:${envName(ns)}-*`) },
        },
      },
      {
        Sid: 'TlsOnly',
        Effect: 'Deny',
        Principal: '*',
        Action: 'sns:Publish',
        Resource: this.arn,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    );
    new SnsTopicPolicy(this, 'policy', { arn: this.topic.arn, policy: policyJson(this.policyDocument) });
    emails.forEach((endpoint, i) => new SnsTopicSubscription(this, `email-${i}`, { topicArn: this.topic.arn, protocol: 'email', endpoint }));
  }
}
