/**
 * Issue 10: the software pipeline construct and its pure rules: deployment configuration, names,
 * the pipeline chain (rule → pipeline → CodeDeploy group on the customer's ASG and target group),
 * approval only in production, validation before anything is created, and the CodeDeploy agent in
 * the web servers' user data.
 */
import * as fc from 'fast-check';
import { Construct } from 'constructs';
import { AutoscalingGroup } from '@cdktf/provider-aws/lib/autoscaling-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { CustomerSoftwarePipeline, CustomerSoftwarePipelineProps } from '../stacks/constructs/customer/software-pipeline';
import { codeDeployAgentInstallerUrl, webUserData } from '../stacks/constructs/customer/web-user-data';
import { softwareBranchesIn } from '../stacks/model/customers';
import { branchNamePart, customerNames, customerPipelineNames } from '../stacks/model/naming';
import { instancesKeptInService, minimumHealthyHosts } from '../stacks/model/software-delivery';
import { TEST_ENVIRONMENT } from './support/customer';
import { synthScoped } from './support/scope';
import { StackJson, resourceList, resources, synthAllStacks } from './support/synth';

describe('minimumHealthyHosts', () => {
  test.each([
    [1, { type: 'HOST_COUNT', value: 0 }],
    [2, { type: 'FLEET_PERCENT', value: 50 }],
    [3, { type: 'FLEET_PERCENT', value: 66 }],
    [4, { type: 'FLEET_PERCENT', value: 75 }],
  ])('min %i → %j', (min, expected) => expect(minimumHealthyHosts(min)).toEqual(expected));

  test('property: at min instances, exactly min - 1 stay in service (so CodeDeploy can start: kept < instances)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), (min) => {
        expect(instancesKeptInService(minimumHealthyHosts(min), min)).toBe(min - 1);
      }),
    );
  });

  test('property: scaled out to n >= min instances, at least (min-1)/min of them stay in service, and at least one is updated', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 100 }), fc.integer({ min: 0, max: 100 }), (min, extra) => {
        const n = min + extra;
        const kept = instancesKeptInService(minimumHealthyHosts(min), n);
        expect(kept).toBeLessThan(n);
        // The share min-1 of min, less at most 1 % of n (the percentage is a whole number, rounded down).
        expect(kept * 100 + n).toBeGreaterThanOrEqual(((min - 1) * n * 100) / min);
        expect(kept).toBeGreaterThanOrEqual(min - 1);
      }),
    );
  });

  test('rejects capacities the web tier rejects', () => {
    for (const bad of [0, 101, 1.5, NaN]) expect(() => minimumHealthyHosts(bad)).toThrow(/whole number from 1 to 100/);
  });
});

describe('names', () => {
  test('branch name parts: safe branches as they are, others with a hash so they stay apart', () => {
    expect(branchNamePart('main')).toBe('main');
    expect(branchNamePart('release-1.2')).toBe('release-1.2');
    expect(branchNamePart('feature/x')).toMatch(/^feature-x-[0-9a-f]{6}$/);
    expect(branchNamePart('feature/x')).not.toBe(branchNamePart('feature-x'));
    expect(branchNamePart('feature/x')).not.toBe(branchNamePart('feature_x'));
  });

  test('property: pipeline names fit 100 characters and CodePipeline\'s alphabet; folders are 20 characters and distinct', () => {
    const customer = fc.stringMatching(/^[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,9})?$/);
    const branch = fc.stringMatching(/^[A-Za-z0-9._/-]{1,80}$/).filter((b) => !b.startsWith('/') && !b.endsWith('/') && !b.includes('//') && !b.includes('..'));
    fc.assert(
      fc.property(customer, branch, branch, (c, b1, b2) => {
        const p = { project: 'acme-web-platform-xx', env: 'production' };
        const n1 = customerPipelineNames(p, c, b1);
        expect(n1.pipeline.length).toBeLessThanOrEqual(100);
        expect(n1.pipeline).toMatch(/^[A-Za-z0-9.@_-]+$/);
        expect(n1.pipeline.startsWith(n1.artifactFolder)).toBe(true);
        expect(n1.artifactFolder).toHaveLength(20);
        expect(n1.sourceRule.length).toBeLessThanOrEqual(64);
        expect(n1.sourceRule).toMatch(/^[.\-_A-Za-z0-9]+$/);
        expect(n1.sourceKey).toBe(`software/${c}/${b1}.zip`);
        if (b1 !== b2) expect(customerPipelineNames(p, c, b2).artifactFolder).not.toBe(n1.artifactFolder);
      }),
    );
  });

  test('routed software branches come from the software repositories of the customer, per environment', () => {
    const repos: Array<{ kind: string; customer: string; branches: Record<string, string> }> = [
      { kind: 'software', customer: 'shop', branches: { develop: 'dev', main: 'prod', hotfix: 'dev' } },
      { kind: 'infrastructure', customer: 'shop', branches: { infra: 'dev' } },
      { kind: 'software', customer: 'blog', branches: { main: 'dev' } },
    ];
    expect(softwareBranchesIn(repos, 'shop', 'dev')).toEqual(['develop', 'hotfix']);
    expect(softwareBranchesIn(repos, 'shop', 'prod')).toEqual(['main']);
    expect(softwareBranchesIn(repos, 'shop', 'staging')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The construct
// ---------------------------------------------------------------------------------------------

function fleet(scope: Construct, customer = 'shop', env = 'dev') {
  const names = customerNames({ project: 'p', env }, customer);
  const asg = new AutoscalingGroup(scope, 'asg', { name: names.autoScalingGroup, minSize: 1, maxSize: 2, availabilityZones: ['eu-west-1a'] });
  const tg = new LbTargetGroup(scope, 'tg', { name: names.targetGroup, port: 8080, protocol: 'HTTP', vpcId: TEST_ENVIRONMENT.vpcId });
  const alarm = new CloudwatchMetricAlarm(scope, 'alarm', { alarmName: names.alarms.target5xx, comparisonOperator: 'GreaterThanThreshold', evaluationPeriods: 1 });
  return { asg, tg, alarm };
}

function build(over: Partial<CustomerSoftwarePipelineProps> = {}, env = 'dev'): StackJson {
  return JSON.parse(
    synthScoped(
      (scope) => {
        const f = fleet(scope, 'shop', env);
        new CustomerSoftwarePipeline(scope, 'sp', {
          customer: 'shop',
          branches: ['develop'],
          production: false,
          environment: TEST_ENVIRONMENT,
          autoScalingGroup: f.asg,
          minCapacity: 1,
          targetGroup: f.tg,
          alarms: [f.alarm],
          ...over,
        });
      },
      { env },
    ),
  );
}

describe('CustomerSoftwarePipeline', () => {
  const dev = build();
  const pipeline = resourceList(dev, 'aws_codepipeline')[0];

  test('CodePipeline V2, QUEUED, artifacts in the env bucket with the env key', () => {
    expect(pipeline.pipeline_type).toBe('V2');
    expect(pipeline.execution_mode).toBe('QUEUED');
    expect(pipeline.artifact_store).toEqual([{ location: TEST_ENVIRONMENT.artifactBucketName, type: 'S3', encryption_key: { id: TEST_ENVIRONMENT.kmsKeyArn, type: 'KMS' } }]);
  });

  test('source: exactly software/<customer>/<branch>.zip, no polling; deploy: the CodeDeploy group; no approval outside production', () => {
    expect(pipeline.stage.map((s: any) => s.name)).toEqual(['Source', 'Deploy']);
    expect(pipeline.stage[0].action[0].configuration).toEqual({ S3Bucket: TEST_ENVIRONMENT.artifactBucketName, S3ObjectKey: 'software/shop/develop.zip', PollForSourceChanges: 'false' });
    expect(pipeline.stage[1].action[0]).toMatchObject({ category: 'Deploy', provider: 'CodeDeploy', input_artifacts: ['source'] });
    expect(pipeline.stage[1].action[0].configuration.DeploymentGroupName).toMatch(/^\$\{aws_codedeploy_deployment_group\./);
  });

  test('deployment group: in place with traffic control on the ASG and target group; rollback on failure and alarms', () => {
    const g = resourceList(dev, 'aws_codedeploy_deployment_group')[0];
    expect(g.deployment_style).toEqual({ deployment_type: 'IN_PLACE', deployment_option: 'WITH_TRAFFIC_CONTROL' });
    expect(g.blue_green_deployment_config).toBeUndefined();
    expect(g.autoscaling_groups).toEqual([expect.stringMatching(/^\$\{aws_autoscaling_group\.asg[_A-Z0-9]*\.name\}$/)]);
    expect(g.load_balancer_info).toEqual({ target_group_info: [{ name: expect.stringMatching(/^\$\{aws_lb_target_group\.tg[_A-Z0-9]*\.name\}$/) }] });
    expect(g.auto_rollback_configuration).toEqual({ enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] });
    expect(g.alarm_configuration).toEqual({ enabled: true, alarms: [expect.stringMatching(/^\$\{aws_cloudwatch_metric_alarm\.alarm[_A-Z0-9]*\.alarm_name\}$/)], ignore_poll_alarm_failure: false });
    expect(resourceList(dev, 'aws_codedeploy_deployment_config')[0].minimum_healthy_hosts).toEqual({ type: 'HOST_COUNT', value: 0 });
  });

  test('rule: exact key, target the pipeline through the start role', () => {
    const rule = resourceList(dev, 'aws_cloudwatch_event_rule')[0];
    expect(JSON.parse(rule.event_pattern).detail.requestParameters).toEqual({ bucketName: [TEST_ENVIRONMENT.artifactBucketName], key: ['software/shop/develop.zip'] });
    const target = resourceList(dev, 'aws_cloudwatch_event_target')[0];
    expect(target.arn).toMatch(/^\$\{aws_codepipeline\.sp_pipeline[_A-Z0-9]*\.arn\}$/);
    expect(target.role_arn).toMatch(/^\$\{aws_iam_role\.sp_start-role[_A-Z0-9]*\.arn\}$/);
  });

  test('production: a manual approval before the deploy, notifying the alarm topic; FLEET_PERCENT config', () => {
    const prod = build({ production: true, minCapacity: 2 }, 'prod');
    const p = resourceList(prod, 'aws_codepipeline')[0];
    expect(p.stage.map((s: any) => s.name)).toEqual(['Source', 'Approve', 'Deploy']);
    expect(p.stage[1].action[0]).toMatchObject({ category: 'Approval', provider: 'Manual', configuration: { NotificationArn: TEST_ENVIRONMENT.alarmTopicArn } });
    expect(resourceList(prod, 'aws_codedeploy_deployment_config')[0].minimum_healthy_hosts).toEqual({ type: 'FLEET_PERCENT', value: 50 });
    const quiet = build({ production: true, minCapacity: 2, approvalNotification: false }, 'prod');
    expect(resourceList(quiet, 'aws_codepipeline')[0].stage[1].action[0].configuration.NotificationArn).toBeUndefined();
  });

  test('two branches: two pipelines and rules, one deployment group', () => {
    const two = build({ branches: ['develop', 'hotfix/1'] });
    expect(Object.keys(resources(two, 'aws_codepipeline'))).toHaveLength(2);
    expect(Object.keys(resources(two, 'aws_cloudwatch_event_rule'))).toHaveLength(2);
    expect(Object.keys(resources(two, 'aws_codedeploy_deployment_group'))).toHaveLength(1);
  });

  test.each<[string, Partial<CustomerSoftwarePipelineProps>, RegExp]>([
    ['bad customer', { customer: 'Shop' }, /customer must be/],
    ['no branch', { branches: [] }, /branches must be at least one branch/],
    ['bad branch', { branches: ['a b'] }, /branches\[0\] must be a git branch name/],
    ['repeated branch', { branches: ['a', 'a'] }, /distinct branches/],
    ['production with one server', { production: true, minCapacity: 1 }, /at least 2 in production/],
    ['capacity 0', { minCapacity: 0 }, /minCapacity must be a whole number/],
    ['no alarms', { alarms: [] }, /at least one alarm/],
    ['token bucket', { environment: { ...TEST_ENVIRONMENT, artifactBucketName: '${aws_s3_bucket.x.bucket}' } }, /artifactBucketName must be a literal/],
  ])('rejects %s before creating anything', (_, over, message) => {
    expect(() => build(over)).toThrow(message);
  });

  test('rejects another customer\'s auto scaling group and target group', () => {
    expect(() =>
      synthScoped((scope) => {
        const f = fleet(scope, 'blog');
        new CustomerSoftwarePipeline(scope, 'sp', { customer: 'shop', branches: ['main'], production: false, environment: TEST_ENVIRONMENT, autoScalingGroup: f.asg, minCapacity: 1, targetGroup: f.tg, alarms: [f.alarm] });
      }),
    ).toThrow(/autoScalingGroup must be the customer's auto scaling group p-dev-shop-web/);
  });
});

describe('every customer stack of the example: rule → pipeline → CodeDeploy group on its ASG and target group', () => {
  const all = synthAllStacks();
  const customerStacks = ['dev-shop', 'dev-blog', 'dev-wiki', 'staging-shop', 'prod-shop', 'prod-wiki'];
  test.each(customerStacks)('%s', (name) => {
    const json = all.get(name)!;
    // The software pipeline (shop also has an image pipeline: customer-image-pipeline.test.ts).
    const [pipelineId, p] = Object.entries(resources(json, 'aws_codepipeline')).find(([, x]) => x.stage.some((st: any) => st.name === 'Deploy'))!;
    const target = resourceList(json, 'aws_cloudwatch_event_target').find((t) => t.arn === `\${aws_codepipeline.${pipelineId}.arn}`);
    expect(target.arn).toBe(`\${aws_codepipeline.${pipelineId}.arn}`);
    const deploy = p.stage[p.stage.length - 1].action[0];
    const [groupId, group] = Object.entries(resources(json, 'aws_codedeploy_deployment_group'))[0]!;
    expect(deploy.configuration.DeploymentGroupName).toBe(`\${aws_codedeploy_deployment_group.${groupId}.deployment_group_name}`);
    expect(group.autoscaling_groups).toEqual(['${aws_autoscaling_group.web_asg.name}']);
    expect(group.load_balancer_info.target_group_info[0].name).toBe('${aws_lb_target_group.routing_target-group.name}');
    expect(p.stage.some((s: any) => s.name === 'Approve')).toBe(name.startsWith('prod-'));
  });
});

describe('web servers get the CodeDeploy agent', () => {
  const script = webUserData({
    customer: 'shop',
    project: 'p',
    environment: 'dev',
    region: 'eu-west-1',
    appPort: 8080,
    healthCheckPath: '/healthz',
    logGroup: '/p/dev/customers/shop/app',
    metricsNamespace: 'p/dev/shop',
    artifactBucket: TEST_ENVIRONMENT.artifactBucketName,
    releasePrefix: 'software/shop/',
  });
  test('installed from the region\'s aws-codedeploy bucket, after the placeholder, and enabled', () => {
    expect(codeDeployAgentInstallerUrl('eu-west-1')).toBe('https://aws-codedeploy-eu-west-1.s3.eu-west-1.amazonaws.com/latest/install');
    expect(script).toContain(codeDeployAgentInstallerUrl('eu-west-1'));
    expect(script.indexOf('codedeploy-install auto')).toBeGreaterThan(script.indexOf('systemctl enable --now webapp-placeholder.service'));
    expect(script).toContain('systemctl enable --now codedeploy-agent.service');
  });
});
