import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { RejectLine } from '../../shared/artifacts/line-formats';
import { customizationSpec, findBaseModel } from '../../shared/catalog/lookup';
import { resolveRunConfig, stageConfig } from '../../shared/config/run-config';
import { recordLimitProblems } from '../../shared/orchestration/record-limits';
import { DEFAULT_QUOTAS } from '../../local/bedrock';

/**
 * Every shell and JSON example of README.md and docs/, taken from the markdown's fenced blocks as they stand (never
 * copied here), is run or checked: shell blocks that talk to the local stack run with `bash` against `npm run stack`
 * (as the README tells a user to), with each AWS CLI major version installed; JSON blocks are checked against the
 * schema of what they show. A block this test cannot place fails it, so a new example is either run or named below.
 */
const ROOT = path.resolve(__dirname, '..', '..');

interface Block {
  file: string;
  line: number;
  lang: string;
  text: string;
}

/** The fenced blocks of a markdown file: the info string's first word, the body, and the line it starts on. */
function fencedBlocks(file: string): Block[] {
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  let open: { lang: string; line: number; body: string[] } | undefined;
  lines.forEach((l, i) => {
    const fence = /^```\s*([\w-]*)/.exec(l);
    if (!open && fence) open = { lang: fence[1] ?? '', line: i + 1, body: [] };
    else if (open && /^```\s*$/.test(l)) {
      blocks.push({ file, line: open.line, lang: open.lang, text: open.body.join('\n') });
      open = undefined;
    } else open?.body.push(l);
  });
  return blocks;
}

const markdownFiles = (dir: string): string[] =>
  readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownFiles(path.join(dir, e.name)) : e.name.endsWith('.md') ? [path.join(dir, e.name)] : [],
  );

const BLOCKS = ['README.md', ...markdownFiles('docs')].flatMap(fencedBlocks);
const SHELL = BLOCKS.filter((b) => ['sh', 'bash', 'shell'].includes(b.lang));
const JSON_BLOCKS = BLOCKS.filter((b) => b.lang === 'json');
const where = (b: Block) => `${b.file}:${b.line}`;

/**
 * Project commands another test or CI runs, and commands that need a deployed stage: a block made only of these is
 * not run here, and says so. Any other command in a block not run against the local stack fails the test.
 */
const COVERED_ELSEWHERE: Array<[RegExp, string]> = [
  [/^npm install && npm (start|test)\b/, 'npm start: test/e2e/npm-start.test.ts; npm test is CI itself'],
  [/^npm start\b/, 'test/e2e/npm-start.test.ts runs npm start'],
  [/^npm run messages:schemas\b/, 'test/unit/messages/public-messages.test.ts checks the schemas'],
  [/^npx serverless deploy\b/, 'needs an AWS account; test/integration/package/template.test.ts packages it'],
  [/^(export \w+=[^$]*\$\()?aws (?!--endpoint-url)/, 'a deployed stage (no --endpoint-url): needs an AWS account'],
  [/^export \w+=[\w.-]+$/, 'a deployed stage: names its resources'],
];

/** A block's commands: backslash-continued lines joined, blank lines and whole-line comments left out. */
const commandsOf = (text: string) =>
  text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

const runsLocally = (b: Block) => /AWS_ENDPOINT_URL_|\.local\/stack\.env/.test(b.text);

describe('the examples in README.md and docs/', () => {
  it('are all placed: run against the local stack, checked against a schema, or named as run elsewhere', () => {
    expect(SHELL.length).toBeGreaterThan(5);
    const unplaced = SHELL.filter((b) => !runsLocally(b)).flatMap((b) =>
      commandsOf(b.text)
        .filter((c) => !COVERED_ELSEWHERE.some(([re]) => re.test(c)))
        .map((c) => `${where(b)}: ${c}`),
    );
    expect(unplaced).toEqual([]);
    for (const b of SHELL.filter((s) => !runsLocally(s)))
      for (const c of commandsOf(b.text))
        console.info(`not run here, ${where(b)}: ${c} (${COVERED_ELSEWHERE.find(([re]) => re.test(c))?.[1]})`);
  });

  it.each(JSON_BLOCKS.map((b) => [where(b), b] as const))('%s is valid for what it shows', (_, b) => {
    let whole: unknown;
    try {
      whole = JSON.parse(b.text);
    } catch {
      // Not one value: the lines of a JSON Lines file; the only one the docs show is rejects.jsonl.
      for (const line of b.text.split('\n').filter((l) => l.trim())) RejectLine.parse(JSON.parse(line));
      return;
    }
    // One value: a run configuration. Every stage resolves, and no job would exceed the record quota the local
    // Bedrock emulator enforces (where the catalog publishes none), which is what the preflight checks.
    const config = resolveRunConfig(whole);
    for (let n = 0; n < (config.stages?.length ?? 1); n++) {
      const stage = stageConfig(config, n);
      const model = findBaseModel(stage.training.baseModelId)!;
      const spec = customizationSpec(model, stage.training.customizationType)!;
      const perJob = config.stages?.[n]?.maxRecordsPerJob;
      const records = Math.min(stage.split.train, perJob ?? Infinity);
      const { errors } = recordLimitProblems({
        model,
        spec,
        training: stage.training,
        trainRecords: records,
        validationRecords: stage.split.validation,
        ...(perJob ? { maxRecordsPerJob: { value: perJob, setting: `stages[${n}].maxRecordsPerJob` } } : {}),
        deploymentQuotas: {
          maxTrainingRecords: DEFAULT_QUOTAS.maxTrainingRecords,
          maxValidationRecords: DEFAULT_QUOTAS.maxValidationRecords,
        },
      });
      expect(errors).toEqual([]);
    }
  });
});

/**
 * Each AWS CLI major version installed, by its absolute path: the one on PATH, another one in /usr if any, and
 * Debian's v2 unpacked into .local by .ci/install-aws-cli-v2 (CI does, so that it does not take v1's place on PATH).
 */
function awsClis(): Map<number, string> {
  const found = new Map<number, string>();
  const onPath = (() => {
    try {
      return execFileSync('bash', ['-c', 'command -v aws'], { encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  })();
  for (const bin of [onPath, '/usr/bin/aws', '/usr/local/bin/aws', path.join(ROOT, '.local/aws-cli-v2/bin/aws')]) {
    if (!bin || !existsSync(bin)) continue;
    try {
      const v = execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const major = Number(/aws-cli\/(\d+)/.exec(v)?.[1]);
      if (major && !found.has(major)) found.set(major, bin);
    } catch {
      // not a working CLI
    }
  }
  return found;
}
const CLIS = awsClis();
for (const major of [1, 2])
  if (!CLIS.has(major))
    console.warn(`SKIPPED: AWS CLI v${major} is not installed; the docs' aws examples are not run with it`);

(CLIS.size ? describe : describe.skip)('the shell examples against `npm run stack`', () => {
  let stack: ChildProcess;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    // given `npm run stack` running, with its env file where the examples load it from, and the dataset they upload
    dir = mkdtempSync(path.join(tmpdir(), 'btp-docs-'));
    mkdirSync(path.join(dir, '.local'));
    const envFile = path.join(dir, '.local', 'stack.env');
    const line = (i: number) =>
      JSON.stringify({ instruction: `質問${i}`, input: '', output: `答え${i}`, category: 'qa' });
    writeFileSync(path.join(dir, 'my-data.jsonl'), Array.from({ length: 40 }, (_, i) => line(i)).join('\n') + '\n');
    stack = spawn('npm', ['run', 'stack', '--', '--endpoint-env', envFile], {
      cwd: ROOT,
      detached: true,
      stdio: 'ignore',
    });
    const written = () => existsSync(envFile) && readFileSync(envFile, 'utf8').includes('BTP_RUNS_TABLE=');
    const by = Date.now() + 150_000;
    while (!written() && Date.now() < by) await new Promise((r) => setTimeout(r, 500));
    if (!written()) throw new Error('npm run stack wrote no env file');
    env = Object.fromEntries(
      readFileSync(envFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  }, 180_000);
  afterAll(async () => {
    if (stack?.pid && stack.exitCode === null) process.kill(-stack.pid, 'SIGINT');
    await new Promise((r) => setTimeout(r, 2000));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Runs a block with bash in the user's working directory, as a user who followed the docs: the stack's environment
   * loaded (operations.md loads it once at the top), the CLI of the version under test first on PATH.
   */
  const run = (b: Block, cli: string, runId: string) =>
    promisify(execFile)('bash', ['-euo', 'pipefail', '-c', b.text.replaceAll('<runId>', runId)], {
      cwd: dir,
      env: { ...process.env, ...env, PATH: `${path.dirname(cli)}:${process.env.PATH}` },
      timeout: 240_000,
    });

  for (const [major, cli] of CLIS) {
    it(`every block that talks to the local stack works with AWS CLI v${major}`, async () => {
      const local = SHELL.filter(runsLocally);
      expect(local.length).toBeGreaterThan(5);
      // the README's upload starts a run: its id stands in for the examples' <runId>
      let runId = 'no-run-yet';
      const failures: string[] = [];
      for (const b of local) {
        try {
          await run(b, cli, runId);
        } catch (err) {
          const e = err as { stderr?: string; message: string };
          failures.push(`${where(b)}: ${e.stderr?.trim() || e.message}`);
        }
        for (let i = 0; runId === 'no-run-yet' && i < 20; i++) {
          runId = (await firstRunId(cli)) ?? runId;
          if (runId === 'no-run-yet') await new Promise((r) => setTimeout(r, 500));
        }
      }
      expect(failures).toEqual([]);
      expect(runId).not.toBe('no-run-yet');
    }, 900_000);
  }

  /** The id of a run in the table, read with the CLI itself. */
  async function firstRunId(cli: string): Promise<string | undefined> {
    const { stdout } = await promisify(execFile)(
      cli,
      [
        '--endpoint-url',
        env.AWS_ENDPOINT_URL_DYNAMODB!,
        'dynamodb',
        'scan',
        '--table-name',
        env.BTP_RUNS_TABLE!,
        '--filter-expression',
        'sk = :r',
        '--expression-attribute-values',
        '{":r":{"S":"RUN"}}',
        '--query',
        'Items[0].runId.S',
        '--output',
        'text',
      ],
      { env: { ...process.env, ...env } },
    );
    const id = stdout.trim();
    return id && id !== 'None' ? id : undefined;
  }
});
