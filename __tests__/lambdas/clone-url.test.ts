/**
 * The clone-URL binding shared by the webhook Lambda and the clone-and-upload program
 * (lambdas/shared/clone-url.ts). End-to-end behaviour is tested in gitlab-webhook*.test.ts and
 * clone-and-upload.test.ts; these cases pin the URL rules themselves.
 */
import { httpCloneUrlProblem, isProjectPath, normalizeGitlabUrl, sshCloneUrlProblem } from '../../lambdas/shared/clone-url';

const BASE = 'https://gitlab.example.com';

describe('httpCloneUrlProblem', () => {
  test.each([
    ['https://gitlab.example.com/acme/web-shop.git', 'acme/web-shop', BASE],
    ['https://gitlab.example.com/acme/web-shop', 'acme/web-shop', BASE],
    ['https://GITLAB.example.com/ACME/Web-Shop.GIT', 'acme/web-shop', BASE],
    ['https://gitlab.example.com/acme/web-shop.git', 'ACME/Web-Shop', BASE],
    ['https://gitlab.example.com/group/sub/project.git', 'group/sub/project', BASE],
    ['https://host.example.com/gitlab/acme/web-shop.git', 'acme/web-shop', 'https://host.example.com/gitlab'],
    ['https://gitlab.example.com:8443/acme/web-shop.git', 'acme/web-shop', 'https://gitlab.example.com:8443'],
    ['https://gitlab.example.com/acme/x/../web-shop.git', 'acme/web-shop', BASE],
    ['http://any.example.org/acme/web-shop.git', 'acme/web-shop', undefined],
  ])('%s is project %s on %s', (url, project, base) => {
    expect(httpCloneUrlProblem(url, project, base)).toBeUndefined();
  });

  test.each([
    ['https://gitlab.example.com/acme/internal-tools.git', BASE, /has the repository path "acme\/internal-tools.git", not the routed project acme\/web-shop/],
    ['https://gitlab.example.com/evil/acme/web-shop.git', BASE, /has the repository path "evil\/acme\/web-shop.git"/],
    ['https://gitlab.example.com/acme/web-shop.git.git', BASE, /has the repository path "acme\/web-shop.git.git"/],
    ['https://gitlab.example.com/acme/web-shop/', BASE, /has the repository path "acme\/web-shop\/"/],
    ['https://gitlab.example.com/acme//web-shop.git', BASE, /has the repository path "acme\/\/web-shop.git"/],
    ['https://gitlab.example.com/acme/web%2dshop.git', BASE, /has the repository path "acme\/web%2dshop.git"/],
    ['https://gitlab.example.com/acme%2Fweb-shop.git', BASE, /has the repository path "acme%2Fweb-shop.git"/],
    ['https://gitlab.example.com/acme/web-shop.git?x=1', BASE, /^must not have a query or fragment$/],
    ['https://gitlab.example.com/acme/web-shop.git#x', BASE, /^must not have a query or fragment$/],
    ['https://user:pw@gitlab.example.com/acme/web-shop.git', BASE, /^must not carry credentials$/],
    ['ftp://gitlab.example.com/acme/web-shop.git', BASE, /^must be an http\(s\) URL$/],
    ['not a url', BASE, /^is not a URL$/],
    ['https://gitlab.example.com.evil.net/acme/web-shop.git', BASE, /^is not under the configured GitLab URL https:\/\/gitlab.example.com$/],
    ['https://gitlab.example.com/acme/web-shop.git', 'https://gitlab.example.com/gitlab', /^is not under the configured GitLab URL https:\/\/gitlab.example.com\/gitlab$/],
    ['https://gitlab.example.com/gitlabx/acme/web-shop.git', 'https://gitlab.example.com/gitlab', /^is not under the configured GitLab URL/],
    ['https://gitlab.example.com/gitlab/acme/web-shop.git', undefined, /not the routed project acme\/web-shop .*set GITLAB_URL to include it\)$/],
  ])('%s on %s is refused', (url, base, message) => {
    expect(httpCloneUrlProblem(url, 'acme/web-shop', base)).toMatch(message);
  });
});

describe('sshCloneUrlProblem', () => {
  test.each(['git@gitlab.example.com:acme/web-shop.git', 'git@gitlab.example.com:Acme/WEB-SHOP', 'ssh://git@gitlab.example.com:2222/acme/web-shop.git', 'ssh://git@gitlab.example.com/acme/web-shop'])('%s is acme/web-shop', (url) => {
    expect(sshCloneUrlProblem(url, 'acme/web-shop')).toBeUndefined();
  });
  test.each([
    ['git@gitlab.example.com:acme/internal-tools.git', /has the repository path "acme\/internal-tools.git"/],
    ['ssh://git@gitlab.example.com:2222/evil/acme/web-shop.git', /has the repository path "evil\/acme\/web-shop.git"/],
    ['git@gitlab.example.com:/acme/web-shop.git', /^must look like/],
    ['https://gitlab.example.com/acme/web-shop.git', /^must look like/],
    ['gitlab.example.com:acme/web-shop.git', /^must look like/],
  ])('%s is refused', (url, message) => {
    expect(sshCloneUrlProblem(url, 'acme/web-shop')).toMatch(message);
  });
});

test('isProjectPath: case-insensitive, .git optional, nothing else', () => {
  expect(isProjectPath('Acme/Web-Shop.git', 'acme/web-shop')).toBe(true);
  expect(isProjectPath('acme/web-shop', 'ACME/WEB-SHOP')).toBe(true);
  expect(isProjectPath('acme/web-shop.gi', 'acme/web-shop')).toBe(false);
  expect(isProjectPath('acme/web-sho', 'acme/web-shop')).toBe(false);
  expect(isProjectPath('', '')).toBe(false);
});

test('normalizeGitlabUrl', () => {
  expect(normalizeGitlabUrl('https://gitlab.example.com/')).toBe('https://gitlab.example.com');
  expect(normalizeGitlabUrl('https://host.example.com/gitlab//')).toBe('https://host.example.com/gitlab');
  expect(normalizeGitlabUrl('https://u:p@host.example.com')).toBeUndefined();
  expect(normalizeGitlabUrl('ssh://host.example.com')).toBeUndefined();
  expect(normalizeGitlabUrl('nope')).toBeUndefined();
});

describe('exact refusals (what the webhook answers and the build log shows)', () => {
  test.each<[string, string | undefined, string]>([
    [
      'https://gitlab.example.com/acme/internal-tools.git',
      BASE,
      'has the repository path "acme/internal-tools.git", not the routed project acme/web-shop (expected https://gitlab.example.com/acme/web-shop.git; compared case-insensitively, ".git" optional)',
    ],
    [
      'https://gitlab.example.com/gitlab/acme/web-shop.git',
      undefined,
      'has the repository path "gitlab/acme/web-shop.git", not the routed project acme/web-shop (expected https://gitlab.example.com/acme/web-shop.git; compared case-insensitively, ".git" optional; if GitLab runs under a relative URL root, set GITLAB_URL to include it)',
    ],
    [
      'https://host.example.com/gitlab/acme/other.git',
      'https://host.example.com/gitlab',
      'has the repository path "acme/other.git", not the routed project acme/web-shop (expected https://host.example.com/gitlab/acme/web-shop.git; compared case-insensitively, ".git" optional)',
    ],
    ['https://:glpat-secret@gitlab.example.com/acme/web-shop.git', BASE, 'must not carry credentials'],
    ['https://oauth2@gitlab.example.com/acme/web-shop.git', BASE, 'must not carry credentials'],
    ['https://other.example.com/acme/web-shop.git', BASE, 'is not under the configured GitLab URL https://gitlab.example.com'],
    ['https://gitlab.example.com', BASE, 'has the repository path "", not the routed project acme/web-shop (expected https://gitlab.example.com/acme/web-shop.git; compared case-insensitively, ".git" optional)'],
  ])('%s on %s', (url, base, message) => {
    expect(httpCloneUrlProblem(url, 'acme/web-shop', base)).toBe(message);
  });

  test('the repository path is what follows the base URL and its slash', () => {
    expect(httpCloneUrlProblem('https://host.example.com/gitlab/acme/web-shop.git', 'acme/web-shop', 'https://host.example.com/gitlab')).toBeUndefined();
    expect(httpCloneUrlProblem('https://host.example.com/gitlab/xacme/web-shop.git', 'acme/web-shop', 'https://host.example.com/gitlab')).toMatch(/^has the repository path "xacme\/web-shop.git"/);
  });

  test.each([
    ['git@gitlab.example.com:acme/internal-tools.git', 'has the repository path "acme/internal-tools.git", not the routed project acme/web-shop (compared case-insensitively, ".git" optional)'],
    ['git@gitlab.example.com:/acme/web-shop.git', 'must look like git@host:group/project.git or ssh://user@host[:port]/group/project.git'],
  ])('ssh %s', (url, message) => {
    expect(sshCloneUrlProblem(url, 'acme/web-shop')).toBe(message);
  });

  test('an empty project path matches nothing, not even ".git"', () => {
    expect(isProjectPath('.git', '')).toBe(false);
    expect(isProjectPath('', '')).toBe(false);
  });
});

describe('normalizeGitlabUrl: only a plain http(s) base URL', () => {
  test.each([
    ['https://gitlab.example.com', 'https://gitlab.example.com'],
    ['http://gitlab.example.com:8080/', 'http://gitlab.example.com:8080'],
    ['HTTPS://GitLab.Example.com:443/Root/', 'https://gitlab.example.com/Root'],
    ['https://host.example.com/a/b///', 'https://host.example.com/a/b'],
    ['https://host.example.com/a//b/', 'https://host.example.com/a//b'],
  ])('%s → %s', (raw, normalized) => {
    expect(normalizeGitlabUrl(raw)).toBe(normalized);
  });
  test.each(['https://user@gitlab.example.com', 'https://:pw@gitlab.example.com', 'https://gitlab.example.com/?x=1', 'https://gitlab.example.com/#top', 'ftp://gitlab.example.com', 'file:///srv/gitlab', '', 'gitlab.example.com'])('%s is refused', (raw) => {
    expect(normalizeGitlabUrl(raw)).toBeUndefined();
  });
});
