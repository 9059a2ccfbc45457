/**
 * Who writes ALB access logs into S3, per region: a literal table, so that no
 * `aws_elb_service_account` data source (an AWS API call) is needed and plans stay offline.
 *
 * Source: AWS documentation, Elastic Load Balancing, Application Load Balancers, "Enable access
 * logs for your Application Load Balancer", step 2 "Attach a policy to your S3 bucket":
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
 *
 * - Regions available before August 2022: the bucket policy names the regional Elastic Load
 *   Balancing account as principal, `arn:<partition>:iam::<elb-account-id>:root`.
 * - Regions available as of August 2022 or later: the log-delivery service principal
 *   `logdelivery.elasticloadbalancing.amazonaws.com`.
 *
 * A region in neither list is rejected (see elbLogDeliveryPrincipal): add it here from that page.
 */
import { Principal, partitionOf } from './iam-policy';

/** Service principal of ELB log delivery, for regions available as of August 2022 or later. */
export const ELB_LOG_DELIVERY_SERVICE = 'logdelivery.elasticloadbalancing.amazonaws.com';

/** Elastic Load Balancing account id by region, for regions available before August 2022. */
export const ELB_ACCOUNT_BY_REGION: Readonly<Record<string, string>> = {
  'us-east-1': '127311923021', // US East (N. Virginia)
  'us-east-2': '033677994240', // US East (Ohio)
  'us-west-1': '027434742980', // US West (N. California)
  'us-west-2': '797873946194', // US West (Oregon)
  'af-south-1': '098369216593', // Africa (Cape Town)
  'ap-east-1': '754344448648', // Asia Pacific (Hong Kong)
  'ap-southeast-3': '589379963580', // Asia Pacific (Jakarta)
  'ap-south-1': '718504428378', // Asia Pacific (Mumbai)
  'ap-northeast-3': '383597477331', // Asia Pacific (Osaka)
  'ap-northeast-2': '600734575887', // Asia Pacific (Seoul)
  'ap-southeast-1': '114774131450', // Asia Pacific (Singapore)
  'ap-southeast-2': '783225319266', // Asia Pacific (Sydney)
  'ap-northeast-1': '582318560864', // Asia Pacific (Tokyo)
  'ca-central-1': '985666609251', // Canada (Central)
  'eu-central-1': '054676820928', // Europe (Frankfurt)
  'eu-west-1': '156460612806', // Europe (Ireland)
  'eu-west-2': '652711504416', // Europe (London)
  'eu-south-1': '635631232127', // Europe (Milan)
  'eu-west-3': '009996457667', // Europe (Paris)
  'eu-north-1': '897822967062', // Europe (Stockholm)
  'me-south-1': '076674570225', // Middle East (Bahrain)
  'sa-east-1': '507241528517', // South America (São Paulo)
  'us-gov-west-1': '048591011584', // AWS GovCloud (US-West)
  'us-gov-east-1': '190560391635', // AWS GovCloud (US-East)
  'cn-north-1': '638102146993', // China (Beijing)
  'cn-northwest-1': '037604701340', // China (Ningxia)
};

/** Regions available as of August 2022 or later: they use ELB_LOG_DELIVERY_SERVICE. */
export const ELB_SERVICE_PRINCIPAL_REGIONS: readonly string[] = [
  'ap-south-2', // Asia Pacific (Hyderabad)
  'ap-southeast-4', // Asia Pacific (Melbourne)
  'ap-southeast-5', // Asia Pacific (Malaysia)
  'ap-southeast-6', // Asia Pacific (New Zealand)
  'ap-southeast-7', // Asia Pacific (Thailand)
  'ap-east-2', // Asia Pacific (Taipei)
  'ca-west-1', // Canada West (Calgary)
  'eu-central-2', // Europe (Zurich)
  'eu-south-2', // Europe (Spain)
  'il-central-1', // Israel (Tel Aviv)
  'me-central-1', // Middle East (UAE)
  'mx-central-1', // Mexico (Central)
];

/** Every region the table knows, sorted. */
export function knownElbLogRegions(): string[] {
  return [...Object.keys(ELB_ACCOUNT_BY_REGION), ...ELB_SERVICE_PRINCIPAL_REGIONS].sort();
}

/** Whether the table knows how ELB delivers access logs in this region. */
export function supportsElbLogDelivery(region: string): boolean {
  return region in ELB_ACCOUNT_BY_REGION || ELB_SERVICE_PRINCIPAL_REGIONS.includes(region);
}

/**
 * The bucket-policy principal that ELB uses to write access logs in a region.
 * Throws for a region that the table does not list.
 */
export function elbLogDeliveryPrincipal(region: string): Principal {
  const account = ELB_ACCOUNT_BY_REGION[region];
  if (account !== undefined) return { AWS: `arn:${partitionOf(region)}:iam::${account}:root` };
  if (ELB_SERVICE_PRINCIPAL_REGIONS.includes(region)) return { Service: ELB_LOG_DELIVERY_SERVICE };
  throw new Error(
    `no ELB access-log delivery principal is known for region ${JSON.stringify(region)}; ` +
      `add it to stacks/model/elb-log-delivery.ts from the AWS page "Enable access logs for your Application Load Balancer" ` +
      `(known: ${knownElbLogRegions().join(', ')})`,
  );
}
