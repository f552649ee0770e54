import type { ChunkPlan } from '../../../shared/messages/pipeline';
import { countsBalance } from '../../../shared/prep/counts';
import {
  DOLLY,
  describeWithData,
  gzip,
  readJsonl,
  toDelimited,
  toJsonArray,
  toJsonl,
  toParquet,
  withBom,
  type Row,
} from '../../helpers/prep/fixtures';
import { runPipeline, type PipelineResult } from '../../helpers/prep/pipeline';
import { currentPrepare, runCounts } from '../../../shared/runs/record';

/**
 * Given databricks-dolly-15k-ja in every form users upload it in, when each is prepared with the default recipe,
 * then the eligible records, the counts and the three sets are the same, and they do not depend on the chunking.
 */
describeWithData(DOLLY)('databricks-dolly-15k-ja in every format gives the same split', () => {
  let rows: Row[];
  let reference: PipelineResult;
  const sets = (r: PipelineResult) => ({
    train: r.prepared('train'),
    validation: r.prepared('validation'),
    test: r.prepared('test'),
  });
  // Reject lines in line order: chunks write theirs in their own order, and split adds the duplicates it finds.
  const rejectsByLine = (r: PipelineResult) =>
    r.rejects().sort((a, b) => Number(a.line) - Number(b.line) || String(a.reason).localeCompare(String(b.reason)));

  beforeAll(async () => {
    rows = readJsonl(DOLLY);
    // The reference is one chunk; the variants below are cut as the defaults cut them (fan-out: in two, gzip in one).
    reference = await runPipeline(toJsonl(rows), 'datasets/dolly/dolly.jsonl', { prep: { fanOut: 1 } });
  });

  it('is one chunk with fanOut 1; by default, a file this size is cut for fan-out into chunks of at least 8 MiB', async () => {
    expect(currentPrepare(reference.run!)?.plan?.chunks).toBe(1);
    const byDefault = await runPipeline(toJsonl(rows), 'datasets/dolly/default.jsonl');
    expect(currentPrepare(byDefault.run!)?.plan?.chunks).toBe(2); // 16.2 MB
    expect(runCounts(byDefault.run!)).toEqual(runCounts(reference.run!));
    expect(sets(byDefault)).toEqual(sets(reference));
    // Cut by byte ranges without ingest reading it: the second chunk counted its lines from its start, and split put
    // them back in the file's numbering, so every reject line names the same line as in one chunk.
    const plans = byDefault.published
      .filter((m) => m.queueUrl === 'q://transform')
      .map((m) => (m.message.payload as { chunk: ChunkPlan }).chunk);
    expect(plans.map((c) => c.relativeLines)).toEqual([true, true]);
    expect(rejectsByLine(byDefault)).toEqual(rejectsByLine(reference));
    // A gzip chunk would be read from the start of the file: gzip input is cut only by chunkBytes.
    expect(
      currentPrepare((await runPipeline(gzip(toJsonl(rows)), 'datasets/dolly/default.jsonl.gz')).run!)?.plan?.chunks,
    ).toBe(1);
  });

  it('knows the data: 15,015 records, 4,598 with an input, three with characters outside the BMP', () => {
    expect(rows).toHaveLength(15_015);
    expect(rows.filter((r) => r.input !== '').length).toBe(4_598);
    expect(rows.filter((r) => /[\u{10000}-\u{10FFFF}]/u.test(r.instruction + r.input + r.output)).length).toBe(3);
  });

  it('prepares the default (the seed recipe on Nova Micro): 10,000 / 1,000 / 50 conversations, disjoint, every record within 1,500 code points, none with a reserved word, counts that add up', () => {
    const run = reference.run!;
    expect(run.status).toBe('submitting');
    const c = runCounts(run)!;
    expect(c.input).toBe(15_015);
    expect(countsBalance(c)).toBe(true);
    expect([c.train, c.validation, c.test]).toEqual([10_000, 1_000, 50]);
    const s = sets(reference);
    const texts = [...s.train, ...s.validation, ...s.test];
    expect(new Set(texts).size).toBe(texts.length);
    const reserved = ['User:', 'Bot:', 'Assistant:', 'System:', '<image>', '<video>', '[EOS]'];
    const test = new Set(s.test);
    for (const line of texts) {
      const r = JSON.parse(line) as { messages: Array<{ role: string; content: Array<{ text: string }> }> };
      // a test record carries its category too (TestSetExtras), for the evaluation; the sets Bedrock reads do not
      const extras = test.has(line) ? ['category'] : [];
      expect(Object.keys(r)).toEqual(['schemaVersion', 'system', 'messages', ...extras]);
      expect(r.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
      const [prompt, completion] = r.messages.map((m) => m.content[0]!.text);
      expect([...(prompt! + completion!)].length).toBeLessThanOrEqual(1500);
      expect(reserved.filter((w) => prompt!.includes(w))).toEqual([]);
    }
    // Every record dropped for length is longer than 1,500 code points, every one dropped for a reserved word has one
    // in its prompt, and every kept one has neither: recompute by hand.
    const promptOf = (r: Row) => (r.input ? `入力:${r.instruction}\n知識:${r.input}` : r.instruction);
    const byHand = rows.filter(
      (r) => [...(promptOf(r) + r.output)].length <= 1500 && !reserved.some((w) => promptOf(r).includes(w)),
    ).length;
    expect(c.kept + (c.byReason['filtered:duplicate'] ?? 0)).toBe(byHand);
    expect(reference.rejects()).toHaveLength(c.filtered + c.rejected);
    const m = reference.manifest();
    expect(Object.keys(m.byCategory.eligible)).toHaveLength(8);
    expect(m.outputs.train).toMatchObject({ records: 10_000, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(m.seed).toBe('btp-default-seed');
    expect(m.lengths.train.chars.max).toBeLessThanOrEqual(1500);
  });

  const variants: Array<[string, string, () => Buffer | string]> = [
    ['a JSON array (the Hugging Face export)', 'datasets/dolly/dolly.json', () => toJsonArray(rows)],
    ['a pretty-printed JSON array', 'datasets/dolly/pretty.json', () => toJsonArray(rows, true)],
    ['CSV with quoted newlines', 'datasets/dolly/dolly.csv', () => toDelimited(rows)],
    ['TSV with CRLF', 'datasets/dolly/dolly.tsv', () => toDelimited(rows, '\t', '\r\n')],
    ['Parquet', 'datasets/dolly/dolly.parquet', () => toParquet(rows)],
    ['gzip JSON Lines', 'datasets/dolly/dolly.jsonl.gz', () => gzip(toJsonl(rows))],
    ['gzip CSV', 'datasets/dolly/dolly.csv.gz', () => gzip(toDelimited(rows))],
    ['JSON Lines with a BOM and CRLF', 'datasets/dolly/bom.jsonl', () => withBom(toJsonl(rows, '\r\n'))],
  ];
  it.each(variants)('%s: the same eligible set and the same split', async (_name, key, make) => {
    const r = await runPipeline(make(), key);
    expect(r.run?.status).toBe('submitting');
    expect(runCounts(r.run!)).toEqual(runCounts(reference.run!));
    expect(sets(r)).toEqual(sets(reference));
    if (/\.jsonl(\.gz)?$/.test(key)) expect(rejectsByLine(r)).toEqual(rejectsByLine(reference));
  });

  it.each([
    ['JSON Lines', 'datasets/dolly/c.jsonl', () => toJsonl(rows)],
    ['a JSON array', 'datasets/dolly/c.json', () => toJsonArray(rows)],
    ['CSV', 'datasets/dolly/c.csv', () => toDelimited(rows)],
    ['gzip JSON Lines', 'datasets/dolly/c.jsonl.gz', () => gzip(toJsonl(rows))],
  ] as Array<[string, string, () => string | Buffer]>)(
    '%s cut into many chunks gives the same split as one chunk',
    async (_n, key, make) => {
      const r = await runPipeline(make(), key, { prep: { chunkBytes: 700_000 } });
      expect(currentPrepare(r.run!)?.plan?.chunks).toBeGreaterThan(15);
      expect(runCounts(r.run!)).toEqual(runCounts(reference.run!));
      expect(sets(r)).toEqual(sets(reference));
      if (key.endsWith('.jsonl')) expect(rejectsByLine(r)).toEqual(rejectsByLine(reference));
    },
  );

  it('JSON Lines cut by ranges and transformed first to last, as one warm environment does, names the same lines', async () => {
    const r = await runPipeline(
      toJsonl(rows),
      'datasets/dolly/f.jsonl',
      { prep: { chunkBytes: 700_000 } },
      undefined,
      'forward',
    );
    expect(runCounts(r.run!)).toEqual(runCounts(reference.run!));
    expect(sets(r)).toEqual(sets(reference));
    expect(rejectsByLine(r)).toEqual(rejectsByLine(reference));
  });

  it('Parquet cut into row-group chunks gives the same split', async () => {
    const r = await runPipeline(toParquet(rows, 1000), 'datasets/dolly/rg.parquet', { prep: { chunkBytes: 1 } });
    expect(currentPrepare(r.run!)?.plan?.chunks).toBe(16);
    expect(sets(r)).toEqual(sets(reference));
  });

  it('another seed gives another split; stratification keeps each category in its share', async () => {
    const other = await runPipeline(toJsonl(rows), 'datasets/dolly/s.jsonl', { split: { seed: 'other' } });
    expect(other.prepared('validation')).not.toEqual(reference.prepared('validation'));
    const strat = await runPipeline(toJsonl(rows), 'datasets/dolly/s.jsonl', { split: { stratifyBy: 'category' } });
    const m = strat.manifest();
    const eligible = Object.values(m.byCategory.eligible).reduce((a, b) => a + b, 0);
    for (const [cat, n] of Object.entries(m.byCategory.eligible)) {
      expect(Math.abs((m.byCategory.validation[cat] ?? 0) - (1000 * n) / eligible)).toBeLessThanOrEqual(1);
    }
  });
});
