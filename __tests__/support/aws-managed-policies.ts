/**
 * The AWS managed policies the platform attaches, as published in the AWS Managed Policy Reference
 * (AmazonSSMManagedInstanceCore v2, CloudWatchAgentServerPolicy). Only for simulation: the
 * deployed roles attach them by ARN. Add a policy here when a role attaches a new one (the IAM
 * helpers refuse to simulate a role with an unknown managed policy).
 */
import type { PolicyDoc } from './iam';

export const AWS_MANAGED_POLICIES: Readonly<Record<string, PolicyDoc>> = {
  AmazonSSMManagedInstanceCore: {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: [
          'ssm:DescribeAssociation',
          'ssm:GetDeployablePatchSnapshotForInstance',
          'ssm:GetDocument',
          'ssm:DescribeDocument',
          'ssm:GetManifest',
          'ssm:GetParameter',
          'ssm:GetParameters',
          'ssm:ListAssociations',
          'ssm:ListInstanceAssociations',
          'ssm:PutInventory',
          'ssm:PutComplianceItems',
          'ssm:PutConfigurePackageResult',
          'ssm:UpdateAssociationStatus',
          'ssm:UpdateInstanceAssociationStatus',
          'ssm:UpdateInstanceInformation',
        ],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: ['ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel'],
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Action: ['ec2messages:AcknowledgeMessage', 'ec2messages:DeleteMessage', 'ec2messages:FailMessage', 'ec2messages:GetEndpoint', 'ec2messages:GetMessages', 'ec2messages:SendReply'],
        Resource: '*',
      },
    ],
  },
  CloudWatchAgentServerPolicy: {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'CWACloudWatchServerPermissions',
        Effect: 'Allow',
        Action: [
          'cloudwatch:PutMetricData',
          'ec2:DescribeVolumes',
          'ec2:DescribeTags',
          'logs:PutLogEvents',
          'logs:PutRetentionPolicy',
          'logs:DescribeLogStreams',
          'logs:DescribeLogGroups',
          'logs:CreateLogStream',
          'logs:CreateLogGroup',
          'xray:PutTraceSegments',
          'xray:PutTelemetryRecords',
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
          'xray:GetSamplingStatisticSummaries',
        ],
        Resource: '*',
      },
      {
        Sid: 'CWASSMServerPermissions',
        Effect: 'Allow',
        Action: ['ssm:GetParameter'],
        Resource: 'arn:aws:ssm:*:*:parameter/AmazonCloudWatch-*',
      },
    ],
  },
};
