/**
 * Issue 10, machine-image pipeline: the construct in every customer stack of the example (shop has
 * an infrastructure repository routed to dev, staging and prod), the Terraform/pipeline ownership
 * split of the image (ignore_changes), the buildspecs, the source rules on sample CloudTrail events,
 * and the example recipe's contract.
 */
import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { infrastructureBranchesIn } from '../stacks/model/customers';
import { IMAGE_RECIPE_VARIABLES, PACKER_MANIFEST_FILE, PACKER_VERSION, bakeBuildspec, rolloutBuildspec } from '../stacks/model/image-delivery';
import { customerImagePipelineNames, customerNames, customerPipelineNames } from '../stacks/model/naming';
import { Pattern, matchesPattern } from './support/event-pattern';
import { StackJson, resourceList, resources, synthAllStacks } from './support/synth';

const ACCOUNT = '111111111111';
const REGION = 'eu-west-1';
const PROJECT = 'acme-web';
const bucketOf = (env: string) => `${PROJECT}-${env}-artifacts-${ACCOUNT}-${REGION}`;
const all = synthAllStacks();
const BRANCH: Record<string, string> = { dev: 'develop', staging: 'release', prod: 'main' };
const stack = (name: string): StackJson => all.get(name)!;
const names = (env: string, c = 'shop') => customerNames({ project: PROJECT, env }, c);
const pipe = (env: string, c = 'shop', branch = BRANCH[env]!) => customerImagePipelineNames({ project: PROJECT, env }, c, branch);
const imagePipelines = (j: StackJson) => resourceList(j, 'aws_codepipeline').filter((p) => p.stage.some((s: any) => s.name === 'Bake'));

function cloudTrailS3Event(bucket: string, key: string, eventName = 'PutObject') {
  return {
    source: 'aws.s3',
    'detail-type': 'AWS API Call via CloudTrail',
    account: ACCOUNT,
    region: REGION,
    detail: { eventSource: 's3.amazonaws.com', eventName, requestParameters: { bucketName: bucket, key } },
  };
}

test('infrastructure branches per environment come from the infrastructure repositories only', () => {
  const repos: { kind: string; customer: string; branches: Record<string, string> }[] = [
    { kind: 'software', customer: 'shop', branches: { develop: 'dev' } },
    { kind: 'infrastructure', customer: 'shop', branches: { develop: 'dev', main: 'prod', hotfix: 'dev' } },
    { kind: 'infrastructure', customer: 'blog', branches: { main: 'dev' } },
  ];
  expect(infrastructureBranchesIn(repos, 'shop', 'dev')).toEqual(['develop', 'hotfix']);
  expect(infrastructureBranchesIn(repos, 'shop', 'prod')).toEqual(['main']);
  expect(infrastructureBranchesIn(repos, 'wiki', 'dev')).toEqual([]);
});

test('names: an infrastructure branch never shares a folder, pipeline or rule with a software branch of the same name', () => {
  const p = { project: PROJECT, env: 'dev' };
  const i = customerImagePipelineNames(p, 'shop', 'develop');
  const s = customerPipelineNames(p, 'shop', 'develop');
  expect(i.artifactFolder).toHaveLength(20);
  expect(i.artifactFolder).not.toBe(s.artifactFolder);
  expect(i.pipeline).not.toBe(s.pipeline);
  expect(i.sourceRule).not.toBe(s.sourceRule);
  expect(i.sourceKey).toBe('infrastructure/shop/develop.zip');
  expect(i.pipeline.startsWith(`${i.artifactFolder}-`)).toBe(true);
});

describe.each(['dev', 'staging', 'prod'])('shop in %s', (env) => {
  const j = stack(`${env}-shop`);
  const n = names(env);
  const b = pipe(env);

  test('one image pipeline: V2, QUEUED, S3 source on exactly its zip without polling, Bake → (Approve in prod) → Rollout', () => {
    const ps = imagePipelines(j);
    expect(ps).toHaveLength(1);
    const p = ps[0]!;
    expect(p).toMatchObject({ name: b.pipeline, pipeline_type: 'V2', execution_mode: 'QUEUED' });
    expect(p.artifact_store[0]).toMatchObject({ location: bucketOf(env), type: 'S3', encryption_key: { type: 'KMS' } });
    expect(p.stage.map((s: any) => s.name)).toEqual(env === 'prod' ? ['Source', 'Bake', 'Approve', 'Rollout'] : ['Source', 'Bake', 'Rollout']);
    const [source, bake] = p.stage;
    expect(source.action[0].configuration).toEqual({ S3Bucket: bucketOf(env), S3ObjectKey: b.sourceKey, PollForSourceChanges: 'false' });
    expect(source.action[0].namespace).toBe('SourceVariables');
    expect(bake.action[0].configuration.ProjectName).toBe('${aws_codebuild_project.image-pipeline_bake.name}');
    expect(JSON.parse(bake.action[0].configuration.EnvironmentVariables)).toEqual([
      { name: 'SOURCE_KEY', value: b.sourceKey, type: 'PLAINTEXT' },
      { name: 'SOURCE_VERSION_ID', value: '#{SourceVariables.VersionId}', type: 'PLAINTEXT' },
    ]);
    const rollout = p.stage[p.stage.length - 1];
    expect(rollout.action[0]).toMatchObject({ category: 'Build', provider: 'CodeBuild', input_artifacts: ['image'] });
  });

  test('bake and rollout projects: natted subnets, own security group, environment key, own log groups', () => {
    const projects = resourceList(j, 'aws_codebuild_project');
    expect(projects.map((x) => x.name).sort()).toEqual([n.imageBakeProject, n.imageRolloutProject].sort());
    for (const x of projects) {
      expect(x.vpc_config.subnets).toHaveLength(3);
      expect(x.vpc_config.security_group_ids).toHaveLength(1);
      expect(x.encryption_key).toMatch(/kms|\$\{/);
      expect(x.source.type).toBe('CODEPIPELINE');
      expect(x.environment).toMatchObject({ type: 'ARM_CONTAINER', image: 'aws/codebuild/amazonlinux-aarch64-standard:3.0' });
    }
    const bake = projects.find((x) => x.name === n.imageBakeProject)!;
    expect(bake.logs_config.cloudwatch_logs.group_name).toBe('${aws_cloudwatch_log_group.image-pipeline_bake-logs.name}');
    const vars = Object.fromEntries(bake.environment.environment_variable.map((v: any) => [v.name, v.value]));
    expect(vars).toMatchObject({ PKR_CUSTOMER: 'shop', PKR_ENVIRONMENT: env, PKR_PROJECT: PROJECT, PKR_INSTANCE_PROFILE: '${aws_iam_instance_profile.web_profile.name}', BASE_IMAGE_PARAMETER: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64' });
    const rollout = projects.find((x) => x.name === n.imageRolloutProject)!;
    const rvars = Object.fromEntries(rollout.environment.environment_variable.map((v: any) => [v.name, v.value]));
    expect(rvars).toMatchObject({ AUTO_SCALING_GROUP: '${aws_autoscaling_group.web_asg.name}', ALARMS: '${aws_cloudwatch_metric_alarm.web_alarm-unhealthy-hosts.alarm_name},${aws_cloudwatch_metric_alarm.web_alarm-target-5xx.alarm_name}', CUSTOMER: 'shop', ENVIRONMENT: env });
    expect(Object.values(resources(j, 'aws_cloudwatch_log_group')).map((g) => g.name)).toEqual(expect.arrayContaining([n.imageBakeLogGroup, n.imageRolloutLogGroup]));
  });

  test('Terraform creates the image once and then leaves image and template version to the pipeline (no drift after a rollout)', () => {
    const lt = resourceList(j, 'aws_launch_template')[0]!;
    expect(lt.image_id).toMatch(/^resolve:ssm:/);
    expect(lt.lifecycle).toEqual({ ignore_changes: ['image_id'] });
    const group = resourceList(j, 'aws_autoscaling_group')[0]!;
    expect(group.lifecycle).toEqual({ ignore_changes: ['desired_capacity', 'launch_template[0].version'] });
    // No instance_refresh block: the provider would set the version before refreshing (#34189).
    expect(group.instance_refresh).toBeUndefined();
  });

  test('the source rule starts exactly this pipeline on exactly this zip', () => {
    const rule = Object.values(resources(j, 'aws_cloudwatch_event_rule')).find((r) => r.name === b.sourceRule)!;
    const pattern = JSON.parse(rule.event_pattern) as Pattern;
    const bucket = bucketOf(env);
    expect(matchesPattern(pattern, cloudTrailS3Event(bucket, b.sourceKey))).toBe(true);
    expect(matchesPattern(pattern, cloudTrailS3Event(bucket, b.sourceKey, 'CompleteMultipartUpload'))).toBe(true);
    for (const key of [
      `software/shop/${BRANCH[env]}.zip`,
      `infrastructure/shop/other.zip`,
      `infrastructure/shop-2/${BRANCH[env]}.zip`,
      `infrastructure/blog/${BRANCH[env]}.zip`,
      `infrastructure/shop/${BRANCH[env]}.zip.tmp`,
      `webhook/${env}/infrastructure/shop/${BRANCH[env]}.zip`,
    ]) {
      expect(matchesPattern(pattern, cloudTrailS3Event(bucket, key))).toBe(false);
    }
    expect(matchesPattern(pattern, cloudTrailS3Event(bucketOf(env === 'dev' ? 'prod' : 'dev'), b.sourceKey))).toBe(false);
    const target = Object.values(resources(j, 'aws_cloudwatch_event_target')).find((t) => t.rule.includes('image-pipeline_source-rule'));
    expect(target?.arn).toBe('${aws_codepipeline.image-pipeline_pipeline.arn}');
  });
});

test('no push of one customer matches another customer\'s image rule, in any stack', () => {
  for (const [name, j] of all) {
    for (const rule of Object.values(resources(j, 'aws_cloudwatch_event_rule'))) {
      if (!String(rule.name).endsWith('-image-source')) continue;
      const pattern = JSON.parse(rule.event_pattern) as Pattern;
      const env = name.split('-')[0]!;
      for (const c of ['blog', 'wiki']) expect(matchesPattern(pattern, cloudTrailS3Event(bucketOf(env), `infrastructure/${c}/${BRANCH[env]}.zip`))).toBe(false);
    }
  }
});

test('customers without an infrastructure repository: no image pipeline, Terraform keeps the template version', () => {
  for (const c of ['blog', 'wiki']) {
    const j = stack(`dev-${c}`);
    expect(imagePipelines(j)).toHaveLength(0);
    expect(resourceList(j, 'aws_codebuild_project')).toHaveLength(0);
    expect(resourceList(j, 'aws_launch_template')[0]!.lifecycle).toBeUndefined();
    expect(resourceList(j, 'aws_autoscaling_group')[0]!.lifecycle).toEqual({ ignore_changes: ['desired_capacity'] });
  }
});

test('the environment stack ships the rollout program once', () => {
  const objects = resourceList(stack('dev'), 'aws_s3_object').filter((o) => o.key === 'tooling/image-rollout.zip');
  expect(objects).toHaveLength(1);
  expect(objects[0]).toMatchObject({ server_side_encryption: 'aws:kms' });
});

describe('buildspecs', () => {
  const bake = YAML.parse(bakeBuildspec());
  const commands = (phase: string) => (bake.phases[phase].commands as string[]).join('\n');
  test('bake installs the pinned Packer, checks its checksum, validates before it builds', () => {
    expect(commands('install')).toContain(`releases.hashicorp.com/packer/${PACKER_VERSION}/packer_${PACKER_VERSION}_linux_arm64.zip`);
    expect(commands('install')).toMatch(/sha256sum -c/);
    const pre = commands('pre_build');
    expect(pre.indexOf('packer validate')).toBeGreaterThan(pre.indexOf('packer init'));
    expect(commands('build')).toContain('packer build');
    for (const v of IMAGE_RECIPE_VARIABLES) expect(pre).toContain(`-var ${v}="$PKR_${v.toUpperCase()}"`);
    expect(commands('build')).toMatch(/create-tags .*Key=customer.*Key=environment.*Key=project.*Key=commit/);
    expect(bake.artifacts.files).toEqual(['image.json']);
  });
  test('rollout runs the shipped program on the bake output', () => {
    expect(YAML.parse(rolloutBuildspec()).phases.build.commands.join('\n')).toMatch(/s3:\/\/\$ARTIFACT_BUCKET\/tooling\/image-rollout\.zip[\s\S]*unzip[\s\S]*node \/tmp\/image-rollout\.js/);
  });
});

test('the example recipe honours the contract: every platform variable, the platform tags on launch, the manifest', () => {
  const hcl = fs.readFileSync(path.join(__dirname, '..', 'examples', 'customer-image', 'image.pkr.hcl'), 'utf8');
  for (const v of IMAGE_RECIPE_VARIABLES) expect(hcl).toMatch(new RegExp(`^variable "${v}"`, 'm'));
  expect(hcl).toMatch(/run_tags\s*=\s*local\.platform_tags/);
  expect(hcl).toMatch(/platform_tags = \{ customer = var\.customer, environment = var\.environment, project = var\.project \}/);
  expect(hcl).toMatch(new RegExp(`post-processor "manifest"[\\s\\S]*output = "${PACKER_MANIFEST_FILE}"`));
  expect(hcl).toMatch(/ssh_interface\s*=\s*"private_ip"/);
});
