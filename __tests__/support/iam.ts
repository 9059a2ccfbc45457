/**
 * IAM behaviour tests over the SYNTHESIZED policies: what Terraform would deploy, not what the
 * TypeScript meant. `StackPolicies` reads a synthesized environment stack (role inline policies,
 * attached AWS managed policies, trust policies, bucket policies, the KMS key policy), replaces the
 * few values known only after apply (`${aws_kms_key.<id>.arn}`) with fixed placeholder ARNs, and
 * runs requests through @cloud-copilot/iam-simulate with the right resource policy attached.
 *
 * To add cases for a new role (the webhook Lambda, CodeBuild source fetch): synthesize the stack,
 * then `policies.simulateAs(roleName, action, resource, context)`; the resource policy (bucket,
 * key, trust policy) is picked from the resource ARN.
 *
 * A stack that reads another (a customer stack reads its environment's key, bucket and outputs) is
 * read with that stack as `upstream`: its cross-stack references (`${aws_kms_key.<id>.arn}` as
 * `Testing.synth` leaves them, `${data.terraform_remote_state.<x>.outputs.<output>}` as `cdktf synth`
 * writes them) get the upstream's placeholders, and requests on the upstream's bucket and key are
 * evaluated with the upstream's bucket and key policies.
 */
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import { PlatformConfig } from '../../stacks/model/config/validate';
import { exampleConfig } from './config';
import { AWS_MANAGED_POLICIES } from './aws-managed-policies';
import { StackJson, resources, synthStack } from './synth';

export type Decision = 'Allowed' | 'ImplicitlyDenied' | 'ExplicitlyDenied';
export type Context = Record<string, string | string[]>;
export interface PolicyDoc {
  readonly Version: string;
  readonly Statement: readonly any[];
}
export interface NamedPolicy {
  readonly name: string;
  readonly policy: PolicyDoc;
}

/** One request to simulate. */
export interface SimulationRequest {
  /** Principal ARN, or a service principal such as `cloudtrail.amazonaws.com`. */
  readonly principal: string;
  readonly action: string;
  /** The resource ARN (never a pattern). */
  readonly resource: string;
  /** Request context; `aws:SecureTransport` defaults to "true" for S3 actions. */
  readonly context?: Context;
  /** The principal's identity policies. Default none (service principals, unrelated principals). */
  readonly identityPolicies?: readonly NamedPolicy[];
  /** The resource's policy (bucket policy, key policy, trust policy). Default none. */
  readonly resourcePolicy?: PolicyDoc;
  /** Account owning the resource. Default: the ARN's account, else the principal's, else `defaultAccount`. */
  readonly resourceAccount?: string;
  /** Account for resources and principals whose ARN names none (S3, service principals). */
  readonly defaultAccount?: string;
}

/**
 * iam-simulate cannot match request context keys of the form `kms:EncryptionContext:<key>`
 * (`aws:cloudtrail:arn`, `aws:logs:arn`, Secrets Manager's `SecretARN`): it accepts only variable
 * keys after a "/" (`aws:ResourceTag/<key>`) and would silently drop them. For exactly those requests
 * (after the validated run found no other problem) the unvalidated engine is used, which evaluates
 * the given context as is. Any other ignored key fails the test.
 */
const UNMATCHED_VARIABLE_KEY = /^kms:EncryptionContext:./i;

function accountOf(arn: string): string | undefined {
  const parts = arn.split(':');
  return parts[0] === 'arn' && /^\d{12}$/.test(parts[4] ?? '') ? parts[4] : undefined;
}

/** Runs one request; throws on invalid input or silently ignored context keys. */
export async function simulate(req: SimulationRequest): Promise<Decision> {
  const context: Context = { ...(req.action.startsWith('s3:') ? { 'aws:SecureTransport': 'true' } : {}), ...(req.context ?? {}) };
  const account = req.resourceAccount ?? accountOf(req.resource) ?? accountOf(req.principal) ?? req.defaultAccount;
  if (!account) throw new Error(`simulate: no account for ${req.resource}; give resourceAccount or defaultAccount`);
  const simulation = {
    request: { principal: req.principal, action: req.action, resource: { resource: req.resource, accountId: account }, contextVariables: context },
    identityPolicies: (req.identityPolicies ?? []).map((p) => ({ name: p.name, policy: p.policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: req.resourcePolicy,
  };
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    throw new Error(`simulate ${req.action} on ${req.resource}: ${result.errors.message}\n${JSON.stringify(result.errors, null, 1)}`);
  }
  const ignored = result.resultType === 'single' ? (result.result.ignoredContextKeys ?? []) : result.results.flatMap((r) => r.ignoredContextKeys ?? []);
  if (ignored.length === 0) return result.overallResult;
  const unexpected = ignored.filter((k) => !UNMATCHED_VARIABLE_KEY.test(k));
  if (unexpected.length > 0) throw new Error(`simulate ${req.action}: context keys ${unexpected.join(', ')} do not apply to this action and would be ignored`);
  // The unvalidated engine loads the resource policy without metadata and then reads its name;
  // iam-policy's plain ValidatedPolicy shape carries the name (the input was validated just above).
  const resourcePolicy = req.resourcePolicy && { __validated: true, policyDocument: req.resourcePolicy, metadata: { name: 'resource-policy' }, errors: [] };
  return runUnsafeSimulation({ ...simulation, resourcePolicy }, {});
}

/** A fixed, valid placeholder for a value known only after apply. */
export function placeholderKeyArn(region: string, account: string, n = 0): string {
  return `arn:aws:kms:${region}:${account}:key/00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

/**
 * A fixed placeholder ARN for an RDS-managed master user secret (`rds!db-...`), known only after
 * apply; it names the DB instance (and so the customer), so secrets of different stacks differ.
 */
export function placeholderDbSecretArn(region: string, account: string, instance: string): string {
  return `arn:aws:secretsmanager:${region}:${account}:secret:rds!db-${instance.replace(/[^A-Za-z0-9-]/g, '-')}-AbC123`;
}

/** A fixed placeholder ARN for a listener of the ALB, known only after apply; the port makes it unique. */
export function placeholderListenerArn(region: string, account: string, albName: string, port: number): string {
  return `arn:aws:elasticloadbalancing:${region}:${account}:listener/app/${albName}/50dc6c495c0c9188/${String(port).padStart(16, '0')}`;
}

/** A fixed placeholder id for a subnet known only after apply: `subnet-<logical id>`. */
export function placeholderSubnetId(logicalId: string): string {
  return `subnet-${logicalId.replace(/[^a-z0-9]/gi, '')}`;
}

/**
 * Replaces the known tokens of a synthesized policy with their placeholders; fails on any other
 * `${...}` left, so a policy that depends on a new unknown value is noticed, not half-simulated.
 */
export function resolveTokens(text: string, placeholders: Readonly<Record<string, string>>): string {
  const out = text.replace(/\$\{([^}]+)\}/g, (m, ref: string) => {
    const v = placeholders[ref];
    if (v === undefined) throw new Error(`resolveTokens: no placeholder for ${m}; add one to StackPolicies`);
    return v;
  });
  return out;
}

/** The policies of one synthesized environment stack, ready to simulate. */
export class StackPolicies {
  readonly account: string;
  readonly region: string;
  /** Placeholder ARN of each KMS key, by Terraform reference (`aws_kms_key.<id>.arn`). */
  readonly placeholders: Readonly<Record<string, string>>;

  /**
   * @param upstream the stacks this one references (a customer stack: its environment stack); their
   * placeholders resolve its cross-stack references, their bucket and key policies apply to requests
   * on their resources.
   */
  constructor(readonly json: StackJson, readonly upstream: readonly StackPolicies[] = []) {
    const provider = json.provider?.aws?.[0];
    this.account = provider?.allowed_account_ids?.[0];
    this.region = provider?.region;
    if (!this.account || !this.region) throw new Error('StackPolicies: the stack has no AWS provider with region and allowed account');
    const placeholders: Record<string, string> = {};
    Object.keys(resources(json, 'aws_kms_key')).forEach((id, i) => (placeholders[`aws_kms_key.${id}.arn`] = placeholderKeyArn(this.region, this.account, i)));
    Object.keys(resources(json, 'aws_subnet')).forEach((id) => (placeholders[`aws_subnet.${id}.id`] = placeholderSubnetId(id)));
    for (const [id, db] of Object.entries(resources(json, 'aws_db_instance'))) {
      const instance = typeof db.identifier === 'string' && !db.identifier.includes('${') ? db.identifier : id;
      placeholders[`aws_db_instance.${id}.master_user_secret[0].secret_arn`] = placeholderDbSecretArn(this.region, this.account, instance);
    }
    const albName = Object.values(resources(json, 'aws_lb'))[0]?.name;
    Object.entries(resources(json, 'aws_lb_listener')).forEach(([id, l]) => (placeholders[`aws_lb_listener.${id}.arn`] = placeholderListenerArn(this.region, this.account, albName, l.port)));
    const own = new Set(Object.values(placeholders));
    for (const up of upstream) {
      for (const [ref, value] of Object.entries(up.placeholders)) {
        if (ref in placeholders) continue; // a resource of this stack of the same logical id
        if (own.has(value)) throw new Error(`StackPolicies: placeholder ${value} of upstream ${ref} is also one of this stack's`);
        placeholders[ref] = value;
      }
    }
    // `cdktf synth` form: `${data.terraform_remote_state.<x>.outputs.<output>}`, the upstream's output
    // value. Outputs the placeholders cannot resolve (a subnet id, an ALB suffix) stay unresolved: a
    // policy that uses one fails in resolveTokens, like any other unknown value.
    const tryResolve = (v: string) => {
      try {
        return resolveTokens(v, placeholders);
      } catch {
        return undefined;
      }
    };
    const text = JSON.stringify(json);
    for (const [, ref, output] of text.matchAll(/\$\{(data\.terraform_remote_state\.[^.}]+\.outputs\.([^}]+))\}/g)) {
      const values = new Set(
        upstream
          .map((up) => up.json.output?.[output!]?.value)
          .filter((v): v is string => typeof v === 'string')
          .map(tryResolve)
          .filter((v): v is string => v !== undefined),
      );
      if (values.size === 1) placeholders[ref!] = [...values][0]!;
      else if (values.size > 1) throw new Error(`StackPolicies: upstream output ${output} is ambiguous: ${[...values].join(', ')}`);
    }
    this.placeholders = placeholders;
  }

  /** Synthesizes an environment stack of the example config (or another) and reads it. */
  static of(stack: string, config: PlatformConfig = exampleConfig()): StackPolicies {
    return new StackPolicies(synthStack(stack, config));
  }

  /** The ARN placeholder of the stack's only RDS-managed master user secret. */
  dbSecretArn(): string {
    const ids = Object.keys(resources(this.json, 'aws_db_instance'));
    if (ids.length !== 1) throw new Error(`StackPolicies: expected one DB instance, found ${ids.length}`);
    return this.placeholders[`aws_db_instance.${ids[0]}.master_user_secret[0].secret_arn`]!;
  }

  /** Names of the stack's roles. */
  roleNames(): string[] {
    return Object.values(resources(this.json, 'aws_iam_role')).map((r) => r.name as string);
  }

  private parse(policy: string): PolicyDoc {
    return JSON.parse(resolveTokens(policy, this.placeholders));
  }

  private roleEntry(roleName: string): [string, any] {
    const entry = Object.entries(resources(this.json, 'aws_iam_role')).find(([, r]) => r.name === roleName);
    if (!entry) throw new Error(`StackPolicies: no role named ${roleName}`);
    return entry;
  }

  /** Placeholder ARN of the ALB's listener on this port. */
  listenerArn(port: number): string {
    const [id] = Object.entries(resources(this.json, 'aws_lb_listener')).find(([, l]) => l.port === port) ?? [];
    if (!id) throw new Error(`StackPolicies: no listener on port ${port}`);
    return this.placeholders[`aws_lb_listener.${id}.arn`]!;
  }

  roleArn(roleName: string): string {
    this.roleEntry(roleName);
    return `arn:aws:iam::${this.account}:role/${roleName}`;
  }

  /** The role's identity policies: inline policies and attached AWS managed policies. */
  identityPolicies(roleName: string): NamedPolicy[] {
    const [id] = this.roleEntry(roleName);
    const refs = [`\${aws_iam_role.${id}.id}`, `\${aws_iam_role.${id}.name}`];
    const inline = Object.values(resources(this.json, 'aws_iam_role_policy'))
      .filter((p) => refs.includes(p.role))
      .map((p) => ({ name: p.name as string, policy: this.parse(p.policy) }));
    const managed = Object.values(resources(this.json, 'aws_iam_role_policy_attachment'))
      .filter((a) => refs.includes(a.role))
      .map((a) => {
        const name = String(a.policy_arn).replace(/^arn:aws:iam::aws:policy\//, '');
        const policy = AWS_MANAGED_POLICIES[name];
        if (!policy) throw new Error(`StackPolicies: ${roleName} attaches ${a.policy_arn}; add its document to support/aws-managed-policies.ts`);
        return { name, policy };
      });
    return [...inline, ...managed];
  }

  trustPolicy(roleName: string): PolicyDoc {
    return this.parse(this.roleEntry(roleName)[1].assume_role_policy);
  }

  /** The policy of the bucket with this name. */
  bucketPolicy(bucketName: string): PolicyDoc {
    const [id] = Object.entries(resources(this.json, 'aws_s3_bucket')).find(([, b]) => b.bucket === bucketName) ?? [];
    if (!id) throw new Error(`StackPolicies: no bucket named ${bucketName}`);
    const policy = Object.values(resources(this.json, 'aws_s3_bucket_policy')).find((p) => p.bucket === `\${aws_s3_bucket.${id}.id}`);
    if (!policy) throw new Error(`StackPolicies: bucket ${bucketName} has no policy`);
    return this.parse(policy.policy);
  }

  /** The stack's only KMS key: its placeholder ARN and its key policy. */
  key(): { arn: string; policy: PolicyDoc } {
    const keys = Object.entries(resources(this.json, 'aws_kms_key'));
    if (keys.length !== 1) throw new Error(`StackPolicies: expected one KMS key, found ${keys.length}`);
    const [id, key] = keys[0]!;
    return { arn: this.placeholders[`aws_kms_key.${id}.arn`]!, policy: this.parse(key.policy) };
  }

  /** The resource policy AWS would evaluate for a request on this resource, if any. */
  resourcePolicyFor(action: string, resource: string): PolicyDoc | undefined {
    return this.ownResourcePolicyFor(action, resource) ?? this.upstream.map((up) => up.resourcePolicyFor(action, resource)).find((p) => p !== undefined);
  }

  private ownResourcePolicyFor(action: string, resource: string): PolicyDoc | undefined {
    const s3 = /^arn:aws[a-z-]*:s3:::([^/]+)/.exec(resource);
    if (s3) {
      const name = s3[1]!;
      return Object.values(resources(this.json, 'aws_s3_bucket')).some((b) => b.bucket === name) ? this.bucketPolicy(name) : undefined;
    }
    if (/^arn:aws[a-z-]*:kms:/.test(resource)) {
      const entry = Object.entries(resources(this.json, 'aws_kms_key')).find(([id]) => this.placeholders[`aws_kms_key.${id}.arn`] === resource);
      return entry ? this.parse(entry[1].policy) : undefined;
    }
    const role = /^arn:aws[a-z-]*:iam::\d{12}:role\/(.+)$/.exec(resource);
    if (role && action === 'sts:AssumeRole') {
      return Object.values(resources(this.json, 'aws_iam_role')).some((r) => r.name === role[1]) ? this.trustPolicy(role[1]!) : undefined;
    }
    return undefined;
  }

  /** A request by one of the stack's roles, with its identity policies and the resource's policy. */
  simulateAs(roleName: string, action: string, resource: string, context: Context = {}): Promise<Decision> {
    return simulate({
      principal: this.roleArn(roleName),
      action,
      resource,
      context,
      identityPolicies: this.identityPolicies(roleName),
      resourcePolicy: this.resourcePolicyFor(action, resource),
      defaultAccount: this.account,
    });
  }

  /** A request by a principal that is not one of the stack's roles (a service, another account). */
  simulateFrom(principal: string, action: string, resource: string, context: Context = {}, identityPolicies: readonly NamedPolicy[] = []): Promise<Decision> {
    return simulate({ principal, action, resource, context, identityPolicies, resourcePolicy: this.resourcePolicyFor(action, resource), defaultAccount: this.account });
  }
}
