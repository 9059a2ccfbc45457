import { Construct } from 'constructs';
import { AcmCertificate } from '@cdktf/provider-aws/lib/acm-certificate';
import { AcmCertificateValidation } from '@cdktf/provider-aws/lib/acm-certificate-validation';
import { Lb } from '@cdktf/provider-aws/lib/lb';
import { LbListener } from '@cdktf/provider-aws/lib/lb-listener';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { TerraformIterator, Token } from 'cdktf';
import { ACM_CERTIFICATE_ARN, DNS_DOMAIN, HOSTED_ZONE_ID } from '../../model/config/schema';
import { Principal, partitionOf } from '../../model/iam-policy';
import { EnvNameParts, albLogBucketName, albShardNames, loadBalancerNameProblems } from '../../model/naming';
import { MAX_SHARDS } from '../../model/config/schema';
import { parseNetwork } from '../../model/ip-plan';
import { SecureBucket } from '../storage/secure-bucket';
import { elbLogDeliveryPrincipal, knownElbLogRegions, supportsElbLogDelivery } from '../../model/elb-log-delivery';
import { NamingScope } from '../naming-scope';

/**
 * TLS policy of the HTTPS listener: TLS 1.3 and 1.2 only, forward-secret AEAD ciphers only
 * (one of the policies AWS Security Hub recommends for ALB listeners).
 */
export const TLS_POLICY = 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06';
/** Key prefix of the access logs in the log bucket (ELB appends `/AWSLogs/<account>/...`). */
export const ACCESS_LOG_PREFIX = 'alb';
/** What the HTTPS listener answers when no customer rule matches the host. */
export const NO_HOST_RESPONSE = { statusCode: '503', contentType: 'text/plain', messageBody: 'host not found' } as const;

/** Where the certificate of `<domain>` and `*.<domain>` comes from. */
export type EntryCertificate =
  /** A new ACM certificate, validated by DNS records written into this Route 53 zone. */
  | { readonly kind: 'acm-dns'; readonly hostedZoneId: string }
  /** An existing ACM certificate in the ALB's region; no ACM or Route 53 resources are created. */
  | { readonly kind: 'existing'; readonly certificateArn: string };

export interface PublicEntryProps {
  /**
   * The load-balancer shard this entry is (0-based). Shard 0 keeps the single-ALB names.
   * @default 0
   */
  readonly shard?: number;
  /**
   * Shard 0's entry, for shards 1 and up: its access-log bucket and environment certificate are
   * shared (logs under the same prefix; ELB names each file after its load balancer).
   * @default none: this entry creates the log bucket and, for "acm-dns", the certificate (shard 0 only)
   */
  readonly primary?: PublicEntry;
  /** VPC of the ALB security group. */
  readonly vpcId: string;
  /** The 3 public subnets, one per AZ; the ALB lives in all of them. */
  readonly publicSubnets: readonly Subnet[];
  /** The natted tier supernet (IPv4 CIDR): the only destination the ALB may send to. */
  readonly nattedSupernet: string;
  /** DNS domain of the environment; the certificate covers `<domain>` and `*.<domain>`. */
  readonly domain: string;
  /** Certificate source: a new DNS-validated ACM certificate or an existing one. */
  readonly certificate: EntryCertificate;
  /** Dualstack ALB, reachable over IPv6 too (the public subnets must have IPv6 blocks). Default false. */
  readonly ipv6?: boolean;
  /** ALB idle timeout, 1-4000 seconds. Default 60. */
  readonly idleTimeoutSeconds?: number;
  /** Days before access logs expire. Default 30. */
  readonly accessLogRetentionDays?: number;
  /** ELB deletion protection (production). Default false. */
  readonly deletionProtection?: boolean;
}

/**
 * One load-balancer shard of an environment's public entry: an internet-facing Application Load
 * Balancer that its customers' web servers are reached through, by host name. Port 80 only redirects to HTTPS;
 * port 443 terminates TLS with the environment's certificate and answers 503 "host not found"
 * until a customer stack attaches a host-header rule to `httpsListener`. Access logs go to a
 * dedicated SSE-S3 bucket (ELB cannot write to SSE-KMS buckets).
 */
export class PublicEntry extends Construct {
  readonly alb: Lb;
  /** The ALB's security group; web-server security groups allow it as their only ingress source. */
  readonly securityGroup: SecurityGroup;
  /** Port 80: a permanent redirect to HTTPS, nothing else. */
  readonly httpListener: LbListener;
  /** Port 443: customer stacks attach their host-header rules here. */
  readonly httpsListener: LbListener;
  /** ARN of the certificate the HTTPS listener uses (the validated one, when created here). */
  readonly certificateArn: string;
  /** The new ACM certificate, when `certificate.kind` is "acm-dns". */
  readonly certificate?: AcmCertificate;
  /** Waits until the new certificate is issued, when `certificate.kind` is "acm-dns". */
  readonly certificateValidation?: AcmCertificateValidation;
  /** The access-log bucket (SSE-S3, TLS-only, public access blocked, logs expire). */
  readonly logBucket: SecureBucket;
  /** The principal that the bucket policy lets write access logs (per region). */
  readonly logDeliveryPrincipal: Principal;

  /** The shard number (0 for the first ALB). */
  readonly shard: number;

  constructor(scope: Construct, id: string, props: PublicEntryProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    const ipv6 = props.ipv6 ?? false;
    const idleTimeout = props.idleTimeoutSeconds ?? 60;
    const retentionDays = props.accessLogRetentionDays ?? 30;
    this.shard = props.shard ?? 0;
    const names = albShardNames(ns, this.shard);
    const lbName = names.loadBalancer;
    validate(props, ns, lbName, idleTimeout, retentionDays);
    this.logDeliveryPrincipal = elbLogDeliveryPrincipal(ns.region);

    // Access logs. ELB writes them only to SSE-S3 buckets: the one documented exception to KMS.
    // Shards after the first write to the first one's bucket (file names carry the ALB's name).
    const bucketName = albLogBucketName(ns);
    this.logBucket = props.primary?.logBucket ?? new SecureBucket(this, 'access-logs', {
      bucketName,
      region: ns.region,
      encryption: { kind: 'sse-s3' },
      expire: [{ id: 'expire-alb-access-logs', prefix: `${ACCESS_LOG_PREFIX}/`, days: retentionDays }],
      // Logs are never overwritten; an expired log becomes noncurrent and is gone a day later.
      noncurrentVersionExpirationDays: 1,
      policyStatements: [
        {
          Sid: 'ElbAccessLogDelivery',
          Effect: 'Allow',
          Principal: this.logDeliveryPrincipal,
          Action: 's3:PutObject',
          Resource: `arn:${partitionOf(ns.region)}:s3:::${bucketName}/${ACCESS_LOG_PREFIX}/AWSLogs/${ns.account}/*`,
        },
      ],
    });

    this.securityGroup = new SecurityGroup(this, 'sg', {
      name: names.securityGroup,
      description: `Public ALB of ${ns.env}${this.shard === 0 ? '' : ` (shard ${this.shard})`}: HTTP and HTTPS from anywhere, to the natted tier only`,
      vpcId: props.vpcId,
      tags: { Name: names.securityGroup },
    });
    const sources: [string, { cidrIpv4: string } | { cidrIpv6: string }][] = [['ipv4', { cidrIpv4: '0.0.0.0/0' }]];
    if (ipv6) sources.push(['ipv6', { cidrIpv6: '::/0' }]);
    for (const [port, what] of [[80, 'HTTP (redirected to HTTPS)'], [443, 'HTTPS']] as const) {
      for (const [family, cidr] of sources) {
        new VpcSecurityGroupIngressRule(this, `sg-in-${port}-${family}`, {
          securityGroupId: this.securityGroup.id,
          description: `${what} from anywhere (${family})`,
          ipProtocol: 'tcp',
          fromPort: port,
          toPort: port,
          ...cidr,
        });
      }
    }
    new VpcSecurityGroupEgressRule(this, 'sg-out-natted', {
      securityGroupId: this.securityGroup.id,
      description: 'Requests and health checks to the web servers in the natted tier',
      ipProtocol: 'tcp',
      fromPort: 0,
      toPort: 65535,
      cidrIpv4: props.nattedSupernet,
    });

    this.alb = new Lb(this, 'alb', {
      name: lbName,
      loadBalancerType: 'application',
      internal: false,
      subnets: props.publicSubnets.map((s) => s.id),
      securityGroups: [this.securityGroup.id],
      ipAddressType: ipv6 ? 'dualstack' : 'ipv4',
      dropInvalidHeaderFields: true,
      desyncMitigationMode: 'strictest',
      enableHttp2: true,
      idleTimeout,
      enableDeletionProtection: props.deletionProtection ?? false,
      accessLogs: { bucket: this.logBucket.bucket.bucket, prefix: ACCESS_LOG_PREFIX, enabled: true },
      // ELB checks that it may write to the bucket when logging is turned on.
      dependsOn: [this.logBucket.policy],
      tags: { Name: lbName },
    });

    this.httpListener = new LbListener(this, 'http', {
      loadBalancerArn: this.alb.arn,
      port: 80,
      protocol: 'HTTP',
      defaultAction: [
        {
          type: 'redirect',
          redirect: { protocol: 'HTTPS', port: '443', host: '#{host}', path: '/#{path}', query: '#{query}', statusCode: 'HTTP_301' },
        },
      ],
      tags: { Name: names.httpListener },
    });

    if (props.primary) {
      // The environment certificate, created (and validated) once by shard 0.
      this.certificateArn = props.primary.certificateArn;
    } else if (props.certificate.kind === 'acm-dns') {
      const cert = new AcmCertificate(this, 'certificate', {
        domainName: props.domain,
        subjectAlternativeNames: [`*.${props.domain}`],
        validationMethod: 'DNS',
        lifecycle: { createBeforeDestroy: true },
        tags: { Name: names.securityGroup },
      });
      // ACM asks for the same CNAME for `<domain>` and `*.<domain>`: one record, keyed by the
      // domain name (known at plan time, unlike the record itself), for the non-wildcard names.
      // The options are iterated as the set they are: the typed getter wraps them in tolist(),
      // and a list of partly unknown objects is wholly unknown at plan time.
      const byDomain = TerraformIterator.fromComplexList(cert.interpolationForAttribute('domain_validation_options'), 'domain_name');
      const options = TerraformIterator.fromMap(Token.asAnyMap(byDomain.forExpressionForMap('key', 'val if !startswith(key, "*.")')));
      const records = new Route53Record(this, 'certificate-validation-record', {
        forEach: options,
        zoneId: props.certificate.hostedZoneId,
        name: options.getString('resource_record_name'),
        type: options.getString('resource_record_type'),
        records: [options.getString('resource_record_value')],
        ttl: 60,
        allowOverwrite: false,
      });
      this.certificate = cert;
      this.certificateValidation = new AcmCertificateValidation(this, 'certificate-validation', {
        certificateArn: cert.arn,
        validationRecordFqdns: Token.asList(TerraformIterator.fromResources(records).pluckProperty('fqdn')),
      });
      // The listener refers to the validation, so it is created only once the certificate is issued.
      this.certificateArn = this.certificateValidation.certificateArn;
    } else {
      this.certificateArn = props.certificate.certificateArn;
    }

    this.httpsListener = new LbListener(this, 'https', {
      loadBalancerArn: this.alb.arn,
      port: 443,
      protocol: 'HTTPS',
      sslPolicy: TLS_POLICY,
      certificateArn: this.certificateArn,
      defaultAction: [{ type: 'fixed-response', fixedResponse: { ...NO_HOST_RESPONSE } }],
      tags: { Name: names.httpsListener },
    });
  }

}

/** Checks every prop before anything is created; each error names the prop, the bad value and what is allowed. */
function validate(props: PublicEntryProps, ns: EnvNameParts, lbName: string, idleTimeout: number, retentionDays: number): void {
  const fail = (prop: string, value: unknown, allowed: string): never => {
    throw new Error(`PublicEntry: ${prop} must be ${allowed}, got ${JSON.stringify(value)}`);
  };
  const nameProblems = loadBalancerNameProblems(lbName);
  if (nameProblems.length > 0) fail('project and env', lbName, `an ALB name ("<project>-<env>") that ELB accepts; it ${nameProblems.join('; ')}`);
  const shard = props.shard ?? 0;
  if (!Number.isInteger(shard) || shard < 0 || shard >= MAX_SHARDS) fail('shard', shard, `a whole number from 0 to ${MAX_SHARDS - 1}`);
  if (shard === 0 && props.primary !== undefined) fail('primary', props.primary.node.path, 'absent for shard 0 (shard 0 creates the log bucket and certificate)');
  if (shard > 0 && props.primary === undefined) fail('primary', undefined, `shard 0's PublicEntry for shard ${shard} (it shares its log bucket and certificate)`);
  if (props.primary !== undefined && props.primary.shard !== 0) fail('primary', props.primary.shard, "shard 0's PublicEntry");
  if (props.publicSubnets.length !== 3) fail('publicSubnets', `${props.publicSubnets.length} subnets`, 'exactly 3 subnets, one per AZ');
  try {
    parseNetwork(props.nattedSupernet);
  } catch (e) {
    fail('nattedSupernet', props.nattedSupernet, `an IPv4 network CIDR such as 10.10.0.0/18 (${(e as Error).message})`);
  }
  if (!DNS_DOMAIN.test(props.domain)) fail('domain', props.domain, 'a lower-case DNS domain such as dev.example.com (no scheme, no trailing dot, no wildcard)');
  const cert = props.certificate;
  if (cert.kind === 'acm-dns') {
    if (!HOSTED_ZONE_ID.test(cert.hostedZoneId)) fail('certificate.hostedZoneId', cert.hostedZoneId, 'a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ');
  } else if (cert.kind === 'existing') {
    if (!ACM_CERTIFICATE_ARN.test(cert.certificateArn)) fail('certificate.certificateArn', cert.certificateArn, 'an ACM certificate ARN');
    const certRegion = cert.certificateArn.split(':')[3];
    if (certRegion !== ns.region) fail('certificate.certificateArn', cert.certificateArn, `an ACM certificate in the ALB's region ${ns.region} (this one is in ${certRegion})`);
  } else {
    fail('certificate.kind', (cert as { kind: unknown }).kind, '"acm-dns" or "existing"');
  }
  if (!Number.isInteger(idleTimeout) || idleTimeout < 1 || idleTimeout > 4000) fail('idleTimeoutSeconds', idleTimeout, 'a whole number of seconds from 1 to 4000');
  if (!Number.isInteger(retentionDays) || retentionDays < 1) fail('accessLogRetentionDays', retentionDays, 'a whole number of days >= 1');
  if (!supportsElbLogDelivery(ns.region)) {
    fail('region', ns.region, `a region whose ELB access-log delivery principal is known (${knownElbLogRegions().join(', ')}); add a new region to stacks/model/elb-log-delivery.ts from the AWS page "Enable access logs for your Application Load Balancer"`);
  }
}
