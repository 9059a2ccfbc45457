/**
 * Every name the platform synthesizes fits AWS's limits, for any config the validator accepts:
 * the longest project (20), environment (10) and customer (20) names included. The limits come
 * from the naming module (NAME_LIMITS), the same table the validator checks.
 */
import * as fc from 'fast-check';
import { NAME_LIMITS, NameKind } from '../stacks/model/naming';
import { exampleInput } from './support/config';
import { validateConfig } from '../stacks/model/config/validate';
import { StackJson, synthAllStacks } from './support/synth';

/** Which attribute of which resource type holds a name, and its kind in NAME_LIMITS. */
const NAMED: Record<string, [attribute: string, kind: NameKind]> = {
  aws_iam_role: ['name', 'iamRole'],
  aws_iam_role_policy: ['name', 'iamPolicy'],
  aws_iam_instance_profile: ['name', 'instanceProfile'],
  aws_lb: ['name', 'loadBalancer'],
  aws_lb_target_group: ['name', 'targetGroup'],
  aws_s3_bucket: ['bucket', 's3Bucket'],
  aws_lambda_function: ['function_name', 'lambda'],
  aws_cloudwatch_event_rule: ['name', 'eventRule'],
  aws_db_instance: ['identifier', 'rdsIdentifier'],
  aws_db_subnet_group: ['name', 'dbSubnetGroup'],
  aws_db_parameter_group: ['name', 'dbParameterGroup'],
  aws_acm_certificate: ['domain_name', 'acmFirstDomain'],
  aws_launch_template: ['name', 'launchTemplate'],
  aws_autoscaling_group: ['name', 'autoScalingGroup'],
  aws_autoscaling_policy: ['name', 'scalingPolicy'],
  aws_security_group: ['name', 'securityGroup'],
  aws_sns_topic: ['name', 'snsTopic'],
  aws_cloudwatch_metric_alarm: ['alarm_name', 'alarm'],
  aws_cloudwatch_log_group: ['name', 'logGroup'],
  aws_codebuild_project: ['name', 'codebuildProject'],
  aws_cloudtrail: ['name', 'trail'],
  aws_kms_alias: ['name', 'kmsAlias'],
  aws_apigatewayv2_api: ['name', 'apiGateway'],
  aws_apigatewayv2_stage: ['name', 'apiGateway'],
  aws_route53_record: ['name', 'dnsName'],
  aws_sqs_queue: ['name', 'sqsQueue'],
  aws_scheduler_schedule: ['name', 'schedulerSchedule'],
  aws_codepipeline: ['name', 'codePipeline'],
  aws_codedeploy_app: ['name', 'codeDeployApplication'],
  aws_codedeploy_deployment_group: ['deployment_group_name', 'codeDeployDeploymentGroup'],
  aws_codedeploy_deployment_config: ['deployment_config_name', 'codeDeployDeploymentConfig'],
};

/** Every name in a stack that is longer than AWS allows, and every named type the table misses. */
function nameProblems(stack: string, json: StackJson): string[] {
  const out: string[] = [];
  for (const [type, byId] of Object.entries(json.resource ?? {})) {
    for (const [id, body] of Object.entries(byId)) {
      const entry = NAMED[type];
      if (!entry) {
        if (typeof body.name === 'string' && !body.name.includes('${')) out.push(`${stack}: ${type}.${id} has a name, but the test's table has no limit for ${type}`);
        continue;
      }
      const [attr, kind] = entry;
      const name = body[attr];
      if (typeof name === 'string' && name.length > NAME_LIMITS[kind]) out.push(`${stack}: ${type}.${id}.${attr} "${name}" is ${name.length} characters; AWS allows ${NAME_LIMITS[kind]}`);
    }
  }
  return out;
}

const letters = (n: number, first = 'a') => first + 'x'.repeat(n - 1);

/** The example config with its names replaced: project, environment names and customer names. */
function renamed(project: string, envSuffix: string, customerPad: number, envLength = 10): any {
  const c = exampleInput();
  c.project = project;
  const envMap = new Map<string, string>();
  for (const e of c.environments) {
    const n = (e.name + envSuffix).slice(0, envLength);
    envMap.set(e.name, n);
    e.name = n;
  }
  const custMap = new Map<string, string>();
  for (const cu of c.customers) {
    const n = (cu.name + '-' + 'y'.repeat(20)).slice(0, Math.min(20, cu.name.length + customerPad)).replace(/-$/, 'z');
    custMap.set(cu.name, n);
    cu.name = n;
    cu.environments = Object.fromEntries(Object.entries(cu.environments ?? {}).map(([k, v]) => [envMap.get(k)!, v]));
  }
  for (const r of c.gitlab.repositories) {
    r.customer = custMap.get(r.customer);
    r.branches = Object.fromEntries(Object.entries(r.branches).map(([b, e]) => [b, envMap.get(e as string)]));
  }
  return c;
}

describe('synthesized names fit AWS limits', () => {
  test('the example config', () => {
    for (const [name, json] of synthAllStacks()) expect(nameProblems(name, json)).toEqual([]);
  });

  test('project 20 with environment 10 is refused (the artifact bucket would be 64 characters)', () => {
    expect(() => validateConfig(renamed(letters(20, 'p'), 'zzzzzzzzzz', 20), 'too long')).toThrow(/bucket name "p[x]+-devzzzzzzz-artifacts-111111111111-eu-west-1" is 64 characters; S3 allows 3 to 63/);
  });

  test.each([
    [20, 9],
    [19, 10],
  ])('the longest names the validator accepts: project %i, environments %i, customers 20', (projectLength, envLength) => {
    const cfg = validateConfig(renamed(letters(projectLength, 'p'), 'z'.repeat(10), 20, envLength), 'longest');
    expect(cfg.environments.every((e) => e.name.length === envLength)).toBe(true);
    expect(cfg.project).toHaveLength(projectLength);
    expect(cfg.environments[0]!.customers.every((c) => c.name.length === 20)).toBe(true);
    for (const [name, json] of synthAllStacks(cfg)) expect(nameProblems(name, json)).toEqual([]);
  });

  test('any accepted name lengths (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 20 }), fc.integer({ min: 4, max: 10 }), fc.integer({ min: 0, max: 16 }), (projectLength, envLength, customerPad) => {
        let cfg;
        try {
          cfg = validateConfig(renamed(letters(projectLength, 'q'), 'w'.repeat(10), customerPad, envLength), 'property');
        } catch (e) {
          if ((e as Error).name === 'ConfigError') return; // not accepted: the validator's business, not this property's
          throw e;
        }
        for (const [name, json] of synthAllStacks(cfg)) expect(nameProblems(name, json)).toEqual([]);
      }),
      { numRuns: 4 },
    );
  });

  test('the check can fail: a 33-character target group name is reported', () => {
    const json: StackJson = { resource: { aws_lb_target_group: { t: { name: 'x'.repeat(33) } }, aws_new_thing: { n: { name: 'n' } } } };
    expect(nameProblems('s', json)).toEqual([
      expect.stringContaining('is 33 characters; AWS allows 32'),
      expect.stringContaining('has no limit for aws_new_thing'),
    ]);
  });
});
