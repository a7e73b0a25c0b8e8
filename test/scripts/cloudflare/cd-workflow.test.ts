import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The CD workflow (.github/workflows/ci-cd.yml) checked by a workflow linter from npm
// (@action-validator/cli, pinned in package.json), and read for what the repository promises of it.

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const WORKFLOW = join(ROOT, '.github', 'workflows', 'ci-cd.yml');

function validate(path: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'node_modules', '@action-validator', 'cli', 'cli.mjs'), path], (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stdout}${stderr}` }),
    );
  });
}

describe('the CD workflow', { timeout: 30_000 }, () => {
  it('passes the workflow linter', async () => {
    const { code, output } = await validate(WORKFLOW);
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it('is checked for real: the linter refuses a broken copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-workflow-'));
    try {
      const broken = join(dir, 'broken.yml');
      writeFileSync(broken, readFileSync(WORKFLOW, 'utf8').replace('runs-on: ubuntu-24.04', 'runs_on: ubuntu-24.04'));
      expect((await validate(broken)).code).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs .ci/run on every push and pull request, then staging, the demo, and production behind its environment', () => {
    const text = readFileSync(WORKFLOW, 'utf8');
    expect(text).toMatch(/^on:\n {2}push:\n {2}pull_request:\n/m);
    expect(text).toMatch(/ci:\n(?: {4}.*\n)*? {6}- run: \.ci\/run\n/);
    expect(text).toMatch(/staging:\n {4}needs: ci\n {4}if: github\.event_name == 'push' && github\.ref == 'refs\/heads\/main'/);
    expect(text).toMatch(/npm run deploy -- --env staging --gradual/);
    expect(text).toMatch(/npm run demo -- --url "\$\{\{ steps\.deploy\.outputs\.url \}\}"/);
    expect(text).toMatch(/production:\n {4}needs: staging\n(?: {4}.*\n)*? {4}environment:\n {6}name: production/);
    expect(text).toMatch(/CLOUDFLARE_API_TOKEN: \$\{\{ secrets\.CLOUDFLARE_API_TOKEN \}\}/);
    expect(text).toMatch(/QSTASH_TOKEN: \$\{\{ secrets\.QSTASH_TOKEN \}\}/);
  });
});
