/**
 * The CodeBuild buildspec of the source fetch. It only calls the clone-and-upload program
 * (lambdas/source-fetch/clone-and-upload.ts, bundled with the AWS SDK): all logic lives there, tested.
 * The deploy token comes from SSM Parameter Store at build time, so it is never in Terraform state.
 */
import YAML from 'yaml';

export interface BuildspecProps {
  /** SSM SecureString holding the GitLab deploy token. */
  readonly deployTokenParameter: string;
  /** SSM parameter holding the deploy token's user name. */
  readonly deployTokenUserParameter: string;
}

export function sourceFetchBuildspec(p: BuildspecProps): string {
  return YAML.stringify({
    version: 0.2,
    env: {
      shell: 'bash',
      'parameter-store': {
        GITLAB_DEPLOY_TOKEN: p.deployTokenParameter,
        GITLAB_DEPLOY_TOKEN_USER: p.deployTokenUserParameter,
      },
    },
    phases: {
      build: {
        commands: ['node --version', 'git --version', 'node clone-and-upload.js'],
      },
    },
  });
}
