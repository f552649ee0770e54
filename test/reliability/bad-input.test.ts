import { gzipSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { generateSampleRecords } from '../../local/sample/generate';
import type { RunConfigInput } from '../../shared/config/run-config';
import { RejectLine } from '../../shared/artifacts/line-formats';
import { buildMessage } from '../../shared/messages/envelope';
import { RunRequested } from '../../shared/messages/pipeline';
import { RunCancel, RunResume } from '../../shared/messages/control';
import { runCounts } from '../../shared/runs/record';
import type { Run } from '../../shared/runs/run';
import { countsAddUp, figure, sleep, startRig, type DeadLetter, type Rig } from './harness';

/**
 * Bad input: malformed and hostile datasets and messages. Each dataset either fails its run with a reason that says
 * what is wrong and where (file, line, field), or runs with every record kept, filtered or rejected with a reason and
 * a location; each message that cannot be taken lands in a dead-letter queue with its reason and starts nothing.
 */
jest.setTimeout(600_000);

/** Data preparation is what bad input meets; the runs stop before Bedrock (preflight and training are other areas). */
const CONFIG: RunConfigInput = { provisioning: { enabled: false }, split: { train: 20, validation: 2, test: 0 } };

/** Records of the sample's shape, each kept by the default filters (the sample's own empty and long ones left out). */
const dolly = (n: number, offset = 0) =>
  generateSampleRecords(Math.ceil((n + offset) * 1.2) + 10)
    .filter((r) => r.output.trim() !== '' && [...`${r.instruction}${r.input}${r.output}`].length < 1200)
    .slice(offset, offset + n)
    .map((r, i) => ({ ...r, index: String(offset + i), output: `${r.output}（${offset + i}）` }));
const jsonl = (records: unknown[], eol = '\n') => records.map((r) => JSON.stringify(r)).join(eol) + eol;
const GOOD = jsonl(dolly(40));
/** The sample generator adds records of its own (a duplicate, an empty one, one too long): count its lines. */
const linesOf = (text: string) => text.split('\n').length - 1;
const HEAD29 = jsonl(dolly(29));
const HEAD1500 = jsonl(dolly(1500));
const HEAD30 = jsonl(dolly(30));

interface DatasetCase {
  name: string;
  key?: string;
  body: string | Buffer;
  config?: RunConfigInput | string;
  /** The run fails with a reason matching this, at this place. */
  fails?: { reason: RegExp; line?: number; field?: string };
  /** The run's dropped records by reason, exactly (every other record kept). */
  reasons?: Record<string, number>;
  /** A reject line must name this line and field. */
  rejectAt?: { line: number; field?: string };
}

const astral = '𠮷'; // one code point outside the Basic Multilingual Plane (two UTF-16 units)
const atLimit = (n: number) => astral.repeat(n);

const DATASETS: DatasetCase[] = [
  { name: 'empty file', body: '', fails: { reason: /empty/ } },
  { name: 'whitespace only', body: ' \n\t\n  \r\n\n', fails: { reason: /cannot tell the format/, line: 1 } },
  { name: 'UTF-8 byte order mark', body: `\ufeff${GOOD}`, reasons: {} },
  { name: 'CRLF line ends', body: jsonl(dolly(40), '\r\n'), reasons: {} },
  {
    name: 'UTF-16LE with BOM',
    body: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(GOOD, 'utf16le')]),
    fails: { reason: /UTF-16|encoding/i },
  },
  {
    name: 'Shift_JIS bytes',
    body: iconv.encode(GOOD, 'shift_jis'),
    fails: { reason: /not valid UTF-8.*Shift_JIS/, line: 1 },
  },
  {
    name: 'invalid UTF-8 on one line',
    body: Buffer.concat([Buffer.from(HEAD29), Buffer.from([0xc3, 0x28, 0x0a]), Buffer.from(jsonl(dolly(10, 29)))]),
    fails: { reason: /UTF-8/i, line: linesOf(HEAD29) + 1 },
  },
  {
    name: 'truncated gzip',
    key: 'datasets/bad/truncated.jsonl.gz',
    body: gzipSync(GOOD).subarray(0, 200),
    fails: { reason: /gzip/ },
  },
  { name: 'gzip of an empty file', key: 'datasets/bad/empty.jsonl.gz', body: gzipSync(''), fails: { reason: /empty/ } },
  {
    name: 'one bad line among 3,000',
    body: HEAD1500 + '{"instruction": "broken\n' + jsonl(dolly(1499, 1500)),
    reasons: { 'rejected:not_json': 1 },
    rejectAt: { line: linesOf(HEAD1500) + 1 },
  },
  {
    // Numbers and booleans are read as text (docs/data-preparation.md); objects and arrays are not.
    name: 'wrong field types',
    body: jsonl([
      ...dolly(30),
      { instruction: '質問', input: '', output: ['答え'], category: 'open_qa' },
      { instruction: { text: '質問' }, input: '', output: '答え', category: 'open_qa' },
    ]),
    reasons: { 'rejected:wrong_type': 2 },
    rejectAt: { line: linesOf(HEAD30) + 1, field: 'output' },
  },
  {
    name: 'missing field',
    body: jsonl([...dolly(30), { instruction: '質問', category: 'open_qa' }]),
    reasons: { 'rejected:missing_field': 1 },
    rejectAt: { line: linesOf(HEAD30) + 1, field: 'output' },
  },
  { name: 'a line that is not an object', body: GOOD + '[1,2,3]\n"text"\n', reasons: { 'rejected:not_object': 2 } },
  {
    name: 'a single line of 24 MB',
    body:
      GOOD +
      JSON.stringify({ instruction: '長い', input: '', output: 'あ'.repeat(8 * 1024 * 1024), category: 'open_qa' }) +
      '\n',
    reasons: { 'filtered:too_long_chars': 1 },
  },
  {
    name: 'records exactly at 1,500 code points with astral characters',
    body: jsonl([
      ...dolly(30),
      // prompt + completion: 1,500 code points (3,000 UTF-16 units), kept; then 1,501, filtered
      { instruction: atLimit(10), input: '', output: atLimit(1500 - 10), category: 'open_qa' },
      { instruction: atLimit(10), input: '', output: atLimit(1500 - 10 + 1), category: 'open_qa' },
    ]),
    reasons: { 'filtered:too_long_chars': 1 },
  },
  {
    name: 'nothing eligible',
    body: jsonl(dolly(30).map((r) => ({ ...r, output: '' }))),
    fails: { reason: /0 eligible records/ },
  },
  {
    name: 'too few records for the sets asked for',
    body: jsonl(dolly(5)),
    config: { ...CONFIG, split: { ...CONFIG.split, whenShort: 'fail' } },
    fails: { reason: /eligible records/ },
  },
  {
    name: 'a JSON array, not JSON Lines',
    key: 'datasets/bad/array.json',
    body: JSON.stringify(dolly(40)),
    reasons: {},
  },
  {
    name: 'binary bytes',
    body: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
    fails: { reason: /not valid UTF-8/, line: 1 },
  },
  { name: 'key with spaces', key: 'datasets/bad/with spaces + plus.jsonl', body: GOOD, reasons: {} },
  { name: 'key in Japanese', key: 'datasets/bad/日本語のデータ 一.jsonl', body: GOOD, reasons: {} },
  {
    name: 'path traversal in the key',
    key: 'datasets/../../runs/other/../datasets/x.jsonl',
    body: GOOD,
    fails: { reason: /"\.\." path segment/ },
  },
  { name: 'sidecar that is not JSON', body: GOOD, config: '{ not json', fails: { reason: /sidecar.*not JSON/ } },
  {
    name: 'sidecar with a wrong value',
    body: GOOD,
    config: { split: { train: -5 } } as unknown as RunConfigInput,
    fails: { reason: /split\.train/ },
  },
];

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
}, 120_000);
afterAll(() => rig?.stop());

describe('malformed and hostile input', () => {
  it('each dataset fails its run with what and where, or accounts for every record', async () => {
    const problems: string[] = [];
    const keyOf = (c: DatasetCase, i: number) => c.key ?? `datasets/bad/${String(i).padStart(2, '0')}.jsonl`;
    await Promise.all(
      DATASETS.map(async (c, i) => {
        const key = keyOf(c, i);
        if (typeof c.config !== 'string') return rig.upload(key, c.body, { ...CONFIG, ...(c.config ?? {}) });
        // a sidecar that is not JSON, as it was written
        await rig.stack.clients.s3.send(
          new PutObjectCommand({ Bucket: rig.datasets, Key: `${key}.run.json`, Body: c.config }),
        );
        return rig.upload(key, c.body);
      }),
    );
    const outcomes: string[] = [];
    let failed = 0;
    let records = 0;
    for (const [i, c] of DATASETS.entries()) {
      const key = keyOf(c, i);
      let run: Run;
      try {
        run = await rig.endedRunOf(key, 120_000);
      } catch (err) {
        problems.push(`${c.name}: ${(err as Error).message}`);
        continue;
      }
      outcomes.push(
        `${c.name}: ${run.status} ${run.failure?.reason ?? ''} ${JSON.stringify(run.failure?.location ?? {})} ${JSON.stringify(runCounts(run) ?? {})}`,
      );
      problems.push(...(await check(c, run)));
      if (run.status === 'failed') failed++;
      records += runCounts(run)?.input ?? 0;
    }
    if (process.env.BTP_RELIABILITY_VERBOSE) process.stdout.write(outcomes.join('\n') + '\n');
    datasetFigures = { cases: DATASETS.length, problems: problems.length, failed, records };
    expect(problems).toEqual([]);
  });

  it('each message that cannot be taken is dead-lettered with its reason and starts nothing', async () => {
    const before = (await rig.allRuns()).length;
    const problems: string[] = [];
    const seen = new Map<string, DeadLetter>();
    await rig.stack.clients.s3.send(new PutObjectCommand({ Bucket: rig.datasets, Key: 'private/x.jsonl', Body: GOOD }));
    const request = (source: { bucket: string; key: string }, extra: object = {}) =>
      JSON.stringify({ ...buildMessage(RunRequested, 'r-request', { source }), ...extra });
    for (const m of MESSAGES(rig.datasets)) {
      const body = typeof m.body === 'function' ? m.body(request) : m.body;
      await rig.stack.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: rig.stack.queueUrl(m.queue), MessageBody: body }),
      );
      m.sent = body;
    }
    await rig.settle(60_000);
    const end = Date.now() + 30_000;
    while (Date.now() < end && seen.size < MESSAGES(rig.datasets).length) {
      for (const d of await rig.deadLetters()) seen.set(d.body, d);
      await sleep(500);
    }
    for (const m of sentMessages) {
      const d = seen.get(m.sent!);
      if (!d) problems.push(`${m.name}: not in a dead-letter queue`);
      else if (!d.reason || !m.reason.test(d.reason))
        problems.push(`${m.name}: reason "${d.reason}" does not match ${m.reason}`);
    }
    const runs = (await rig.allRuns()).length - before;
    if (runs !== 0) problems.push(`${runs} runs started`);
    figure(
      `bad input: ${datasetFigures.cases} datasets (${datasetFigures.failed} failed with what and where, ` +
        `${datasetFigures.records} records all kept, filtered or rejected with a reason), ${sentMessages.length} ` +
        `messages (${sentMessages.filter((m) => seen.get(m.sent!)?.reason).length} dead-lettered with a reason), ` +
        `${datasetFigures.problems + problems.length} problems`,
    );
    expect(problems).toEqual([]);
  });
});

let datasetFigures = { cases: 0, problems: 0, failed: 0, records: 0 };

interface MessageCase {
  name: string;
  queue: string;
  body: string | ((request: (source: { bucket: string; key: string }, extra?: object) => string) => string);
  reason: RegExp;
  sent?: string;
}

let sentMessages: MessageCase[] = [];
function MESSAGES(datasets: string): MessageCase[] {
  if (sentMessages.length) return sentMessages;
  const control = (def: typeof RunCancel | typeof RunResume, payload: object) =>
    JSON.stringify(buildMessage(def as typeof RunCancel, 'r-does-not-exist', payload as never));
  sentMessages = [
    { name: 'not JSON', queue: 'IngestQueue', body: '{"type": "run.requested", ', reason: /JSON/ },
    {
      name: 'an unknown message type',
      queue: 'IngestQueue',
      body: JSON.stringify({ type: 'run.explode', version: 1 }),
      reason: /run\.explode|type/,
    },
    {
      name: 'an unknown version',
      queue: 'IngestQueue',
      body: (request) => request({ bucket: datasets, key: 'datasets/bad/00.jsonl' }, { version: 99 }),
      reason: /version/,
    },
    {
      name: 'an oversized message',
      queue: 'IngestQueue',
      body: (request) => request({ bucket: datasets, key: 'datasets/bad/00.jsonl' }, { padding: 'x'.repeat(200_000) }),
      reason: /characters long/,
    },
    {
      name: 'a bucket outside the allowed one',
      queue: 'IngestQueue',
      body: (request) => request({ bucket: 'someone-elses-bucket', key: 'datasets/x.jsonl' }),
      reason: /someone-elses-bucket/,
    },
    {
      name: 'a prefix outside datasets/ and inputs/',
      queue: 'IngestQueue',
      body: (request) => request({ bucket: datasets, key: 'private/x.jsonl' }),
      reason: /private\/x\.jsonl.*datasets\//,
    },
    {
      name: 'path traversal in a requested key',
      queue: 'IngestQueue',
      body: (request) => request({ bucket: datasets, key: 'datasets/../private/x.jsonl' }),
      reason: /"\.\." path segment/,
    },
    {
      name: 'run.cancel for a run that does not exist',
      queue: 'MonitorQueue',
      body: control(RunCancel, {}),
      reason: /r-does-not-exist/,
    },
    {
      name: 'run.resume for a run that does not exist',
      queue: 'SubmitQueue',
      body: control(RunResume, { fromStage: 'train' }),
      reason: /r-does-not-exist/,
    },
  ];
  return sentMessages;
}

async function check(c: DatasetCase, run: Run): Promise<string[]> {
  const out: string[] = [];
  const say = (s: string) => out.push(`${c.name}: ${s}`);
  if (c.fails) {
    if (run.status !== 'failed') say(`expected a failed run, got ${run.status}`);
    const reason = run.failure?.reason ?? '';
    if (!c.fails.reason.test(reason)) say(`reason "${reason}" does not match ${c.fails.reason}`);
    if (!run.failure?.location?.file) say('the failure names no file');
    if (c.fails.line !== undefined && run.failure?.location?.line !== c.fails.line)
      say(`the failure is at line ${run.failure?.location?.line}, not ${c.fails.line}`);
    return out;
  }
  if (run.status !== 'succeeded') say(`expected a run that succeeds, got ${run.status}: ${run.failure?.reason}`);
  const bad = countsAddUp(run);
  if (bad) say(bad);
  const counts = runCounts(run);
  if (JSON.stringify(counts?.byReason ?? {}) !== JSON.stringify(c.reasons ?? {}))
    say(`dropped ${JSON.stringify(counts?.byReason)}, expected ${JSON.stringify(c.reasons ?? {})}`);
  // every dropped record has a reject line with its reason and where it was
  const files = await rig.artifactBytes(run.runId);
  const rejects = (files.get('stages/0/rejects.jsonl')?.toString('utf8') ?? '')
    .split('\n')
    .filter(Boolean)
    .map((l) => RejectLine.parse(JSON.parse(l)));
  if (counts && rejects.length !== counts.filtered + counts.rejected)
    say(`${rejects.length} reject lines for ${counts.filtered + counts.rejected} dropped records`);
  for (const r of rejects)
    if (r.line === undefined && r.row === undefined) say(`a reject line without a place: ${r.detail}`);
  if (
    c.rejectAt &&
    !rejects.some((r) => r.line === c.rejectAt!.line && (!c.rejectAt!.field || r.field === c.rejectAt!.field))
  )
    say(`no reject line at line ${c.rejectAt.line} ${c.rejectAt.field ?? ''}: ${JSON.stringify(rejects.slice(0, 3))}`);
  for (const key of files.keys()) if (key.includes('..')) say(`an artifact key with "..": ${key}`);
  return out;
}
