import { Construct } from 'constructs';
import { FlowLog } from '@cdktf/provider-aws/lib/flow-log';
import { ITerraformDependable } from 'cdktf';
import { envName } from '../../model/naming';
import { NamingScope } from '../naming-scope';

export interface VpcFlowLogProps { 
  /** The VPC whose traffic is logged. */
  readonly vpcId: string;
  /** Literal S3 ARN of the destination: a bucket ARN plus a prefix ending in "/". */
  readonly destinationArn: string;
  /** What must exist before delivery is set up (the bucket policy that lets log delivery write). Default none. */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * VPC flow logs (all traffic, 10-minute aggregation) delivered straight to S3 as plain-text files.
 * Delivery needs no IAM role: the bucket policy and the key policy grant delivery.logs.amazonaws.com.
 */
export class VpcFlowLog extends Construct {
  readonly flowLog: FlowLog;

  constructor(scope: Construct, id: string, props: VpcFlowLogProps) {
    super(scope, id);
    const ns = NamingScope.of(this);
    if (!/^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]+\/([^*?]+\/)?$/.test(props.destinationArn)) {
      throw new Error(`VpcFlowLog: destinationArn must be an S3 bucket ARN with an optional literal prefix ending in "/", got ${JSON.stringify(props.destinationArn)}`);
    }
    this.flowLog = new FlowLog(this, 'flow-log', {
      vpcId: props.vpcId,
      trafficType: 'ALL',
      logDestinationType: 's3',
      logDestination: props.destinationArn,
      maxAggregationInterval: 600,
      destinationOptions: { fileFormat: 'plain-text', hiveCompatiblePartitions: false, perHourPartition: false },
      dependsOn: props.dependsOn,
      tags: { Name: envName(ns, 'vpc-flow-log') },
    });
  }
}
