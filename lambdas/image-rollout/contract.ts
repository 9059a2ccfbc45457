/**
 * The contract of the image rollout program that the construct (through stacks/model/image-delivery.ts)
 * and the program share. It lives with the program: the Lambda and CodeBuild programs are the lowest
 * layer and import nothing from stacks/.
 */

/** Minutes the rollout program waits for the instance refresh before it rolls it back and fails. */
export const ROLLOUT_TIMEOUT_MINUTES = 45;
/** Seconds between two DescribeInstanceRefreshes calls of the rollout program. */
export const ROLLOUT_POLL_SECONDS = 15;

/** The instance refresh preferences of every image rollout (and what the tests check). */
export function rolloutPreferences(alarms: readonly string[], instanceWarmupSeconds: number) {
  return {
    // Never below the healthy minimum: new instances are launched first (up to 200 %), old ones
    // are terminated only once their replacements are healthy.
    MinHealthyPercentage: 100,
    MaxHealthyPercentage: 200,
    // Auto-rollback works because the refresh names an explicit version of the template and the
    // image id is a literal AMI: on failure or alarm the group goes back to the version it ran.
    AutoRollback: true,
    AlarmSpecification: { Alarms: [...alarms] },
    InstanceWarmup: instanceWarmupSeconds,
    SkipMatching: true,
  };
}

