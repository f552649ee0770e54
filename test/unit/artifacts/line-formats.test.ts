import {
  ChunkRejectLine,
  KeptMeta,
  parseArtifact,
  readJsonLines,
  RejectLine,
  REJECT_REASONS,
  SplitManifest,
  TestSetExtras,
} from '../../../shared/artifacts';
import { parseMetaBytes } from '../../../shared/prep/records';
import { ARTIFACTS, runPipeline } from '../../helpers/prep/pipeline';

/**
 * Transform writes meta and reject lines by hand and split reads meta lines with a byte reader, for speed (see
 * shared/artifacts/index.ts): this runs the real steps over input with records of every outcome, in several chunks,
 * and checks what they wrote against the schemas, line for line.
 */
const rec = (i: number, over: Record<string, unknown> = {}) =>
  JSON.stringify({
    instruction: `質問 ${i % 40}`,
    input: i % 3 ? '' : `文脈 ${i}`,
    output: `答え ${i % 40}`,
    category: ['open_qa', 'say "hi"', 'back\\slash', 'qa'][i % 4],
    ...over,
  });
const lines = [
  ...Array.from({ length: 120 }, (_, i) => rec(i)),
  rec(500, { output: '長'.repeat(200) }),
  rec(501, { output: '' }),
  rec(502, { output: 5 }),
  rec(503, { output: ['x'] }),
  JSON.stringify({ instruction: 'no output' }),
  '[1, 2]',
  '{"instruction": "cut',
];

describe('what the steps write matches the artifact schemas', () => {
  let r: Awaited<ReturnType<typeof runPipeline>>;
  beforeAll(async () => {
    r = await runPipeline(lines.join('\n'), 'datasets/all.jsonl', {
      prep: { filters: { maxChars: 100 }, chunkBytes: 2000 },
      split: { train: 20, validation: 5, test: 5 },
    });
  });
  const keys = (part: string) => r.objects.keys(ARTIFACTS).filter((k) => k.endsWith(part));

  it('meta.jsonl: the byte reader gives what the schema reads, for every line', () => {
    const metaKeys = keys('/meta.jsonl');
    expect(metaKeys.length).toBeGreaterThan(2);
    let n = 0;
    for (const key of metaKeys) {
      const text = r.objects.text(ARTIFACTS, key);
      const bySchema = readJsonLines(KeptMeta, text, key);
      const byBytes = text
        .split('\n')
        .filter(Boolean)
        .map((l) => parseMetaBytes(Buffer.from(l)));
      expect(byBytes).toEqual(bySchema);
      n += bySchema.length;
    }
    // categories with a quote or a backslash take the byte reader's fallback
    expect(n).toBeGreaterThan(40);
  });

  it("rejects.jsonl: the run's every line a RejectLine, the chunks' a RejectLine or a duplicate in short; every reason one the union names", async () => {
    // Transformed first to last, as one warm environment: the chunks then drop the texts earlier chunks kept, and
    // write those duplicates in short.
    const forward = await runPipeline(
      lines.join('\n'),
      'datasets/all.jsonl',
      { prep: { filters: { maxChars: 100 }, chunkBytes: 2000 }, split: { train: 20, validation: 5, test: 5 } },
      undefined,
      'forward',
    );
    const reasons = new Set<string>();
    let short = 0;
    for (const run of [r, forward]) {
      for (const key of run.objects.keys(ARTIFACTS).filter((k) => k.endsWith('rejects.jsonl'))) {
        const text = run.objects.text(ARTIFACTS, key);
        if (!key.includes('/chunks/')) {
          for (const line of readJsonLines(RejectLine, text, key)) reasons.add(line.reason);
          continue;
        }
        for (const line of readJsonLines(ChunkRejectLine, text, key)) {
          if (Array.isArray(line)) short++;
          else reasons.add(line.reason);
        }
      }
    }
    expect(short).toBeGreaterThan(10);
    expect(forward.rejects()).toEqual(r.rejects());
    expect([...reasons].sort()).toEqual(
      [
        'filtered:duplicate',
        'filtered:empty',
        'filtered:too_long_chars',
        'rejected:missing_field',
        'rejected:not_json',
        'rejected:not_object',
        'rejected:wrong_type',
      ].sort(),
    );
    expect(REJECT_REASONS).toEqual(expect.arrayContaining([...reasons]));
  });

  it('manifest.json parses, and its counts add up by reason', () => {
    const m = SplitManifest.parse(r.manifest());
    const reasons = Object.values(m.counts.byReason).reduce((s, n) => s + (n ?? 0), 0);
    expect(reasons).toBe(m.counts.filtered + m.counts.rejected);
    expect(m.outputs.train.tokens).toBe(m.lengths.train.tokens.total);
  });

  it('prepared/test.jsonl: each line is a training-format record plus its category; the sets Bedrock reads have none', () => {
    const m = SplitManifest.parse(r.manifest());
    const test = r.prepared('test');
    expect(test).toHaveLength(5);
    const categories = test.map(
      (l, i) => parseArtifact(TestSetExtras, JSON.parse(l), 'test', `line ${i + 1}`).category,
    );
    // the categories with a quote or a backslash come back as they were in the input
    expect(categories.every((c) => ['open_qa', 'say "hi"', 'back\\slash', 'qa'].includes(c!))).toBe(true);
    expect(
      Object.entries(m.byCategory.test)
        .flatMap(([c, n]) => Array<string>(n).fill(c))
        .sort(),
    ).toEqual([...categories].sort());
    for (const l of test)
      expect(Object.keys(JSON.parse(l) as object)).toEqual(['schemaVersion', 'system', 'messages', 'category']);
    for (const l of [...r.prepared('train'), ...r.prepared('validation')])
      expect(Object.keys(JSON.parse(l) as object)).toEqual(['schemaVersion', 'system', 'messages']);
    // and the manifest describes the file as written
    const bytes = test.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    expect(m.outputs.test).toMatchObject({ records: 5, bytes });
  });
});
