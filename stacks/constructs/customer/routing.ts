import { Construct } from 'constructs';
import { AcmCertificate } from '@cdktf/provider-aws/lib/acm-certificate';
import { AcmCertificateValidation } from '@cdktf/provider-aws/lib/acm-certificate-validation';
import { LbListenerCertificate } from '@cdktf/provider-aws/lib/lb-listener-certificate';
import { LbListenerRule } from '@cdktf/provider-aws/lib/lb-listener-rule';
import { LbTargetGroup } from '@cdktf/provider-aws/lib/lb-target-group';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import { TerraformIterator, Token } from 'cdktf';
import { ACM_CERTIFICATE_ARN, CUSTOMER_NAME, DNS_DOMAIN, HOSTED_ZONE_ID } from '../../model/config/schema';
import { CustomDomain, CustomerEnvironment } from '../../model/customers';
import { EnvNameParts, NAME_LIMITS, customerNames, loadBalancerNameProblems } from '../../model/naming';
import { EnvironmentExports } from '../environment-exports';
import { NamingScope } from '../naming-scope';

/** ALB listener rule priorities (AWS: 1-50000, unique per listener). */
export const RULE_PRIORITY_MIN = 1;
export const RULE_PRIORITY_MAX = 50000;
/** Values of one host-header condition (AWS quota "condition values per rule", not adjustable). */
export const MAX_HOSTS_PER_RULE = 5;
/** Longest value of a host-header condition. */
export const MAX_HOST_LENGTH = 128;
/**
 * Seconds the ALB drains a deregistered target. Short, because CodeDeploy's BlockTraffic step
 * waits for it on every instance of an in-place deployment (the ELB default is 300).
 */
export const DEREGISTRATION_DELAY_SECONDS = 30;
/** Health check of the customer's target group, apart from path and matcher (settings). */
export const HEALTH_CHECK = { intervalSeconds: 15, healthyThreshold: 2, unhealthyThreshold: 3, timeoutSeconds: 5 } as const;
/** Ports the app may listen on: unprivileged ports only, as the config allows. */
export const APP_PORT_MIN = 1024;
export const APP_PORT_MAX = 65535;

/** A host whose DNS this construct does not write: whoever owns the zone points it at the ALB. */
export interface UnmanagedHost {
  /** The host name, e.g. www.shop.example. */
  readonly host: string;
  /** What to point it at: a CNAME to this DNS name, or an alias record with `zoneId`. */
  readonly dnsName: string;
  /** Route 53 zone id of the ALB, for an alias record (needed at a zone apex, where CNAMEs are not allowed). */
  readonly zoneId: string;
}

/** What was created for one custom domain. */
export interface CustomDomainRouting {
  /** The custom host name. */
  readonly name: string;
  /** The new DNS-validated certificate, when the domain has a hosted zone. */
  readonly certificate?: AcmCertificate;
  /** Waits until the new certificate is issued, when the domain has a hosted zone. */
  readonly certificateValidation?: AcmCertificateValidation;
  /** Attaches the domain's certificate (new or given) to the HTTPS listener. */
  readonly listenerCertificate: LbListenerCertificate;
  /** Alias records (A, plus AAAA when ipv6) in the domain's zone; empty when DNS is the customer's. */
  readonly records: readonly Route53Record[];
}

export interface CustomerRoutingProps {
  /** The customer's name (a DNS label, part of resource names); must equal settings.name. */
  readonly customer: string;
  /** The customer resolved for this environment: hosts, rule priority, custom domains, web tier. */
  readonly settings: CustomerEnvironment;
  /** What the environment exports: VPC, ALB, HTTPS listener. */
  readonly environment: EnvironmentExports;
  /**
   * Route 53 zone of the environment domain, where the default host's alias records go.
   * @default none: the environment uses an existing certificate and its DNS is managed elsewhere;
   * the default host is then listed in `unmanagedHosts`.
   */
  readonly environmentHostedZoneId?: string;
  /** Whether the ALB is dualstack: AAAA alias records are written next to the A records. */
  readonly ipv6: boolean;
}

/**
 * Routes a customer's hosts to its web servers on the environment's shared ALB: a target group
 * (the web tier's Auto Scaling group registers into it), one host-header listener rule at the
 * customer's fixed priority, alias records for the default host and the custom domains whose zone
 * the platform manages, and one listener certificate per custom domain.
 */
export class CustomerRouting extends Construct {
  /** The customer's target group: HTTP on the app port, instance targets. */
  readonly targetGroup: LbTargetGroup;
  /** ARN of the target group (for the Auto Scaling group and CodeDeploy). */
  readonly targetGroupArn: string;
  /** `targetgroup/<name>/<id>`: the CloudWatch dimension TargetGroup and the scaling resource label part. */
  readonly targetGroupArnSuffix: string;
  /** The host-header rule on the HTTPS listener, forwarding to the target group. */
  readonly listenerRule: LbListenerRule;
  /** Alias records of the default host (A, plus AAAA when ipv6); empty without environmentHostedZoneId. */
  readonly defaultHostRecords: readonly Route53Record[];
  /** Per custom domain, in settings order: certificate, listener certificate, records. */
  readonly customDomains: readonly CustomDomainRouting[];
  /** Every alias record this construct writes (default host, then custom domains). */
  readonly records: readonly Route53Record[];
  /** Hosts whose DNS is not written here, with what to point them at. */
  readonly unmanagedHosts: readonly UnmanagedHost[];

  constructor(scope: Construct, id: string, props: CustomerRoutingProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    const names = customerNames(ns, props.customer);
    validate(props, ns, names.targetGroup);
    const { settings, environment: env } = props;
    const tags = (name: string) => ({ Name: name, customer: props.customer });

    this.targetGroup = new LbTargetGroup(this, 'target-group', {
      name: names.targetGroup,
      port: settings.web.appPort,
      protocol: 'HTTP',
      targetType: 'instance',
      vpcId: env.vpcId,
      deregistrationDelay: String(DEREGISTRATION_DELAY_SECONDS),
      healthCheck: {
        enabled: true,
        protocol: 'HTTP',
        port: 'traffic-port',
        path: settings.web.healthCheckPath,
        matcher: settings.web.healthCheckMatcher,
        interval: HEALTH_CHECK.intervalSeconds,
        healthyThreshold: HEALTH_CHECK.healthyThreshold,
        unhealthyThreshold: HEALTH_CHECK.unhealthyThreshold,
        timeout: HEALTH_CHECK.timeoutSeconds,
      },
      tags: tags(names.targetGroup),
    });
    this.targetGroupArn = this.targetGroup.arn;
    this.targetGroupArnSuffix = this.targetGroup.arnSuffix;

    // The priority is always explicit: left unset, Terraform takes "the next one after the highest",
    // which depends on the order customers happen to be applied in.
    this.listenerRule = new LbListenerRule(this, 'listener-rule', {
      listenerArn: env.httpsListenerArn,
      priority: settings.rulePriority,
      condition: [{ hostHeader: { values: [...settings.hosts] } }],
      action: [{ type: 'forward', targetGroupArn: this.targetGroup.arn }],
      tags: tags(names.base),
    });

    const unmanaged: UnmanagedHost[] = [];
    const pointAtAlb = (host: string): UnmanagedHost => ({ host, dnsName: env.albDnsName, zoneId: env.albZoneId });
    const aliasRecords = (idPrefix: string, zoneId: string, host: string): Route53Record[] =>
      (props.ipv6 ? (['A', 'AAAA'] as const) : (['A'] as const)).map(
        (type) =>
          new Route53Record(this, `${idPrefix}-${type.toLowerCase()}`, {
            zoneId,
            name: host,
            type,
            alias: { name: env.albDnsName, zoneId: env.albZoneId, evaluateTargetHealth: true },
          }),
      );

    if (props.environmentHostedZoneId !== undefined) {
      this.defaultHostRecords = aliasRecords('default-host', props.environmentHostedZoneId, settings.defaultHost);
    } else {
      this.defaultHostRecords = [];
      unmanaged.push(pointAtAlb(settings.defaultHost));
    }

    this.customDomains = settings.customDomains.map((d) => {
      // Ids from the name ("." is not a DNS name character of "_"), so reordering domains moves nothing.
      const key = `domain-${d.name.replace(/\./g, '_')}`;
      if (d.hostedZoneId !== undefined) {
        const certificate = new AcmCertificate(this, `${key}-certificate`, {
          domainName: d.name,
          validationMethod: 'DNS',
          lifecycle: { createBeforeDestroy: true },
          tags: tags(d.name),
        });
        // One validation record per name, keyed by the name (known at plan time), as PublicEntry does.
        const options = TerraformIterator.fromComplexList(certificate.interpolationForAttribute('domain_validation_options'), 'domain_name');
        const validationRecords = new Route53Record(this, `${key}-validation-record`, {
          forEach: options,
          zoneId: d.hostedZoneId,
          name: options.getString('resource_record_name'),
          type: options.getString('resource_record_type'),
          records: [options.getString('resource_record_value')],
          ttl: 60,
          allowOverwrite: false,
        });
        const certificateValidation = new AcmCertificateValidation(this, `${key}-certificate-validation`, {
          certificateArn: certificate.arn,
          validationRecordFqdns: Token.asList(TerraformIterator.fromResources(validationRecords).pluckProperty('fqdn')),
        });
        // Referring to the validation's ARN: attached only once the certificate is issued.
        const listenerCertificate = new LbListenerCertificate(this, `${key}-listener-certificate`, {
          listenerArn: env.httpsListenerArn,
          certificateArn: certificateValidation.certificateArn,
        });
        return { name: d.name, certificate, certificateValidation, listenerCertificate, records: aliasRecords(key, d.hostedZoneId, d.name) };
      }
      const listenerCertificate = new LbListenerCertificate(this, `${key}-listener-certificate`, {
        listenerArn: env.httpsListenerArn,
        certificateArn: d.certificateArn!,
      });
      unmanaged.push(pointAtAlb(d.name));
      return { name: d.name, listenerCertificate, records: [] };
    });

    this.records = [...this.defaultHostRecords, ...this.customDomains.flatMap((d) => d.records)];
    this.unmanagedHosts = unmanaged;
  }
}

/** Checks every prop before anything is created; each error names the prop, the bad value and what is allowed. */
function validate(props: CustomerRoutingProps, ns: EnvNameParts, targetGroupName: string): void {
  const fail = (prop: string, value: unknown, allowed: string): never => {
    throw new Error(`CustomerRouting: ${prop} must be ${allowed}, got ${JSON.stringify(value)}`);
  };
  const s = props.settings;
  if (!CUSTOMER_NAME.test(props.customer)) fail('customer', props.customer, '2-20 characters of a-z, 0-9 and "-", starting with a letter, not ending with "-" and without "--"');
  if (s.name !== props.customer) fail('settings.name', s.name, `the customer's name ${JSON.stringify(props.customer)}`);
  const tgProblems = loadBalancerNameProblems(targetGroupName);
  if (targetGroupName.length > NAME_LIMITS.targetGroup || tgProblems.length > 0) {
    fail('customer', props.customer, `a name that gives a valid target group name; "${targetGroupName}" ${tgProblems.join('; ')}`);
  }
  if (!Number.isInteger(s.rulePriority) || s.rulePriority < RULE_PRIORITY_MIN || s.rulePriority > RULE_PRIORITY_MAX) {
    fail('settings.rulePriority', s.rulePriority, `a whole number from ${RULE_PRIORITY_MIN} to ${RULE_PRIORITY_MAX} (ALB listener rule priority)`);
  }
  if (s.hosts.length < 1 || s.hosts.length > MAX_HOSTS_PER_RULE) {
    fail('settings.hosts', s.hosts, `1 to ${MAX_HOSTS_PER_RULE} host names (one host-header condition takes at most ${MAX_HOSTS_PER_RULE} values)`);
  }
  s.hosts.forEach((h, i) => {
    if (typeof h !== 'string' || h.length > MAX_HOST_LENGTH || !DNS_DOMAIN.test(h)) {
      fail(`settings.hosts[${i}]`, h, `a lower-case DNS name of at most ${MAX_HOST_LENGTH} characters such as shop.dev.example.com (no scheme, no trailing dot, no wildcard)`);
    }
    if (s.hosts.indexOf(h) !== i) fail(`settings.hosts[${i}]`, h, 'a host name not listed twice');
  });
  if (!s.hosts.includes(s.defaultHost)) fail('settings.defaultHost', s.defaultHost, `one of settings.hosts (${s.hosts.join(', ')})`);
  s.customDomains.forEach((d: CustomDomain, i) => {
    const where = `settings.customDomains[${i}]`;
    if (!s.hosts.includes(d.name)) fail(`${where}.name`, d.name, `one of settings.hosts (${s.hosts.join(', ')}), or the listener rule would not route it`);
    if (d.name.length > NAME_LIMITS.acmFirstDomain) fail(`${where}.name`, d.name, `at most ${NAME_LIMITS.acmFirstDomain} characters (the first name of an ACM certificate)`);
    if (s.customDomains.findIndex((o) => o.name === d.name) !== i) fail(`${where}.name`, d.name, 'a custom domain not listed twice');
    const hasZone = d.hostedZoneId !== undefined;
    const hasCert = d.certificateArn !== undefined;
    if (hasZone === hasCert) {
      fail(where, { hostedZoneId: d.hostedZoneId, certificateArn: d.certificateArn }, 'exactly one of hostedZoneId (a new DNS-validated certificate and alias records) and certificateArn (an existing certificate; DNS is the customer\'s)');
    }
    if (hasZone && !HOSTED_ZONE_ID.test(d.hostedZoneId!)) fail(`${where}.hostedZoneId`, d.hostedZoneId, 'a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ');
    if (hasCert) {
      if (!ACM_CERTIFICATE_ARN.test(d.certificateArn!)) fail(`${where}.certificateArn`, d.certificateArn, 'an ACM certificate ARN');
      const certRegion = d.certificateArn!.split(':')[3];
      if (certRegion !== ns.region) fail(`${where}.certificateArn`, d.certificateArn, `an ACM certificate in the ALB's region ${ns.region} (this one is in ${certRegion})`);
    }
  });
  if (props.environmentHostedZoneId !== undefined && !HOSTED_ZONE_ID.test(props.environmentHostedZoneId)) {
    fail('environmentHostedZoneId', props.environmentHostedZoneId, 'a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ, or absent');
  }
  const w = s.web;
  if (!Number.isInteger(w.appPort) || w.appPort < APP_PORT_MIN || w.appPort > APP_PORT_MAX) {
    fail('settings.web.appPort', w.appPort, `a whole number from ${APP_PORT_MIN} to ${APP_PORT_MAX} (the app runs unprivileged)`);
  }
  if (typeof w.healthCheckPath !== 'string' || w.healthCheckPath.length > 1024 || !/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/.test(w.healthCheckPath)) {
    fail('settings.web.healthCheckPath', w.healthCheckPath, 'a URL path of at most 1024 characters starting with "/" such as /healthz');
  }
  // ALB accepts HTTP codes 200-499 for HTTP health checks.
  const codes = /^[2-4]\d\d(-[2-4]\d\d)?(,[2-4]\d\d(-[2-4]\d\d)?)*$/;
  if (typeof w.healthCheckMatcher !== 'string' || !codes.test(w.healthCheckMatcher)) {
    fail('settings.web.healthCheckMatcher', w.healthCheckMatcher, 'HTTP codes from 200 to 499 such as "200", "200,204" or "200-299"');
  }
  if (typeof props.ipv6 !== 'boolean') fail('ipv6', props.ipv6, 'true or false');
}
