import { dollyRecord as rec, toDelimited, toJsonArray, toParquet } from '../../helpers/prep/fixtures';
import { generatedLines } from '../../helpers/prep/generated';
import { ARTIFACTS, runPipeline, type Environments, type PipelineResult } from '../../helpers/prep/pipeline';
import { currentPrepare } from '../../../shared/runs/record';

/**
 * Given an input cut into chunks with duplicates across them, when it is prepared once with one transform
 * environment for every chunk (whose later chunks drop the texts its earlier ones kept), once with a fresh
 * environment per chunk (split finds those duplicates), once with two environments taking turns (split renames the
 * duplicates naming a record the second kept and it drops) and once with one environment taking the odd chunks before
 * the even ones (what a later chunk was told of an earlier one's texts does not hold for a chunk before that one), then
 * every file split writes is the same byte for byte: the sets, rejects.jsonl (each duplicate's line in its place,
 * naming the record that stays) and the manifest bar its time, its count of duplicates across chunks included.
 */
const SPLIT = { train: 6, validation: 2, test: 2 };

/** The stage's outputs, by key: the sets, the rejects and the manifest (without its createdAt). */
function outputs(r: PipelineResult): Map<string, string> {
  const out = new Map<string, string>();
  for (const key of r.objects.keys(ARTIFACTS)) {
    if (key.includes('/chunks/') || !key.includes('/stages/')) continue;
    const text = r.objects.text(ARTIFACTS, key);
    out.set(key, key.endsWith('manifest.json') ? text.replace(/"createdAt": *"[^"]*"/, '') : text);
  }
  return out;
}

async function bothWays(body: Buffer | string, key: string, config: Record<string, unknown>) {
  const run = (environments: Environments, order: 'forward' | 'odd-first' = 'forward') =>
    runPipeline(body, key, config, undefined, order, environments);
  const one = await run('one');
  const each = await run('each');
  const two = await run('two');
  const oddFirst = await run('one', 'odd-first');
  expect(one.run?.status).toBe('submitting');
  expect(currentPrepare(one.run!)?.plan?.chunks).toBeGreaterThan(3);
  const a = outputs(one);
  expect(a.size).toBe(5);
  for (const b of [outputs(each), outputs(two), outputs(oddFirst)]) {
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [k, v] of a) expect({ k, v }).toEqual({ k, v: b.get(k) });
  }
  // The two ways did differ: one environment dropped duplicates of its earlier chunks, where split found them.
  const earlier = async (r: PipelineResult) =>
    (await r.runs.listChunks(r.run!.runId, 0)).reduce((n, c) => n + (c.duplicatesOfEarlierChunks ?? 0), 0);
  expect(await earlier(one)).toBeGreaterThan(0);
  expect(await earlier(each)).toBe(0);
  return { one, each };
}

/** Each reject line's line or row, in file order. */
const places = (r: PipelineResult) => r.rejects().map((x) => (x.line ?? x.row) as number);
const ascending = (xs: number[]) => xs.every((x, i) => i === 0 || xs[i - 1]! <= x);

/**
 * Records whose texts repeat within and across chunks, with bad records among them: text `n % 5` on most lines (so a
 * later chunk holds a text of an earlier one twice), a text of its own on every third, and some that cannot be kept.
 */
const rows = Array.from({ length: 90 }, (_, n) => {
  if (n % 17 === 9) return { ...rec(n), output: '   ' }; // filtered: empty
  if (n % 13 === 7) return { index: String(n), instruction: `質問${n}`, input: '', category: 'open_qa' }; // no output
  return rec(n % 3 === 0 ? 1000 + n : n % 5, { index: String(n) });
});

describe('the outputs are the same whichever environment transformed which chunk', () => {
  it('JSON Lines cut without reading (lines counted from each chunk), with lines that are not JSON', async () => {
    const lines = rows.map((r, n) => (n % 11 === 4 ? '{"instruction": "broken", ' : JSON.stringify(r)));
    const { one, each } = await bothWays(lines.join('\n') + '\n', 'datasets/d.jsonl', {
      prep: { chunkBytes: 900 },
      split: SPLIT,
    });
    expect(one.objects.keys(ARTIFACTS).some((k) => k.endsWith('/chunks/0/kept.jsonl'))).toBe(true);
    expect(ascending(places(each))).toBe(true);
    const m = each.manifest();
    // Every duplicate whose text stays in an earlier chunk, whoever found it.
    expect(m.input.duplicatesAcrossChunks).toBeGreaterThan(10);
    expect(m.input.duplicatesAcrossChunks).toBeLessThan(m.counts.byReason['filtered:duplicate']!);
    // Each duplicate names the record that stays: the first line with its text.
    const first = new Map<string, number>();
    lines.forEach((l, i) => {
      const t = l.startsWith('{"instruction": "broken"') ? undefined : (JSON.parse(l) as { output?: string }).output;
      if (t && !first.has(t)) first.set(t, i + 1);
    });
    for (const x of each.rejects().filter((x) => x.reason === 'filtered:duplicate')) {
      const t = (JSON.parse(lines[(x.line as number) - 1]!) as { output: string }).output;
      expect(x.detail).toBe(`same text as line ${first.get(t)}`);
    }
  });

  it('a text over the token limit whose normal form another record keeps is dropped for its tokens in any chunk', async () => {
    // One text after NFKC in two spellings, the full-width one estimated at more tokens than the limit: its copy in a
    // later chunk is dropped for its tokens whether or not that chunk's environment kept the other spelling.
    const wide = { index: 'w', instruction: 'é\\漢', input: '', output: '漢①〜\nＱ𠮷あ', category: 'c' };
    const narrow = { ...wide, index: 'n', output: '漢①〜\nQ𠮷あ' };
    const lines = [...rows.slice(0, 40), { ...wide, index: 'w2' }].map((r) => JSON.stringify(r));
    lines.splice(1, 0, JSON.stringify(wide), JSON.stringify(narrow));
    const { each } = await bothWays(lines.join('\n') + '\n', 'datasets/d.jsonl', {
      prep: { chunkBytes: 900, filters: { maxTokens: 9 } },
      split: SPLIT,
    });
    expect(
      each
        .rejects()
        .filter((x) => x.reason === 'filtered:too_many_tokens')
        .map((x) => x.line),
    ).toEqual([2, 43]);
  });

  it('generated records, some wrong in one small way, under three configurations', async () => {
    const configs = [
      { prep: { chunkBytes: 700 }, split: SPLIT },
      {
        prep: { chunkBytes: 500, filters: { maxChars: 12, maxTokens: 9 } },
        split: { train: 4, validation: 1, test: 1 },
      },
      { prep: { chunkBytes: 600, filters: { dropEmpty: false } }, split: SPLIT },
    ];
    let prepared = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const body = generatedLines(seed, 80).join('\n') + '\n';
      const config = configs[seed % configs.length]!;
      const runs: PipelineResult[] = [];
      for (const e of ['one', 'each', 'two'] as const)
        runs.push(await runPipeline(body, 'datasets/d.jsonl', config, undefined, 'forward', e));
      const [a, ...others] = runs.map((r) => ({ status: r.run?.status, files: outputs(r) }));
      if (a!.status === 'submitting') prepared++;
      for (const b of others) {
        expect({ seed, status: b.status }).toEqual({ seed, status: a!.status });
        expect({ seed, keys: [...b.files.keys()].sort() }).toEqual({ seed, keys: [...a!.files.keys()].sort() });
        for (const [k, v] of b.files) expect({ seed, k, v }).toEqual({ seed, k, v: a!.files.get(k) });
      }
    }
    expect(prepared).toBeGreaterThan(6); // most seeds keep enough records for the sets
  });

  it('CSV (lines of the file) and a JSON array (rows)', async () => {
    const flat = rows.map((r) => ({ ...r, output: (r as { output?: string }).output ?? '' }));
    const csv = await bothWays(toDelimited(flat), 'datasets/d.csv', { prep: { chunkBytes: 700 }, split: SPLIT });
    expect(ascending(places(csv.each))).toBe(true);
    const json = await bothWays(toJsonArray(rows), 'datasets/d.json', { prep: { chunkBytes: 900 }, split: SPLIT });
    expect(json.each.rejects().every((x) => x.row !== undefined)).toBe(true);
    expect(ascending(places(json.each))).toBe(true);
  });

  it('Parquet rows, one row group a chunk', async () => {
    const flat = rows.map((r) => ({ ...r, output: (r as { output?: string }).output ?? '' }));
    await bothWays(toParquet(flat, 12), 'datasets/d.parquet', { prep: { chunkBytes: 1 }, split: SPLIT });
  });

  it('documents cut into pieces (continued pre-training), with a sentence too long among them', async () => {
    // Sentences of 6 characters and a limit of 10: one sentence a piece. Each document repeats texts of the others.
    const s = (i: number) => `文${String(i).padStart(3, '0')}です。`;
    const long = `${'長'.repeat(12)}。`;
    const docs = Array.from({ length: 40 }, (_, n) => ({
      text: [s(n % 4), n % 6 === 2 ? long : '', s(1000 + n), s((n + 1) % 4), s(n % 3 === 0 ? 2000 + n : 7)].join(''),
    }));
    const { each } = await bothWays(docs.map((d) => JSON.stringify(d)).join('\n') + '\n', 'datasets/corpus/d.jsonl', {
      prep: { chunkBytes: 600, filters: { maxChars: 10 } },
      split: SPLIT,
    });
    expect(each.run!.config.training.customizationType).toBe('CONTINUED_PRE_TRAINING');
    const reasons = new Set(each.rejects().map((x) => x.reason));
    expect(reasons).toEqual(new Set(['filtered:duplicate', 'filtered:sentence_too_long']));
    expect(ascending(places(each))).toBe(true);
    // Each duplicate piece names the first document with its sentence, in the order of its document's sentences (the
    // piece transform names is not written).
    const first = new Map<string, number>();
    const sentences = docs.map((d) => d.text.split(/(?<=。)/).filter((x) => x !== long));
    sentences.forEach((ss, i) => ss.forEach((x) => first.set(x, first.get(x) ?? i + 1)));
    const expected = sentences.flatMap((ss, i) =>
      ss
        .filter((x) => first.get(x)! < i + 1)
        .map((x) => ({ line: i + 1, detail: `same text as line ${first.get(x)}` })),
    );
    const dups = each.rejects().filter((x) => x.reason === 'filtered:duplicate');
    expect(dups.map((x) => ({ line: x.line, detail: x.detail }))).toEqual(expected);
  });
});
