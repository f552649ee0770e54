import type { Readable } from 'node:stream';
import type { ArtifactStore } from '../../../shared/prep/ports';
import { splitRun } from '../../../shared/prep/write-sets';
import { ARTIFACTS, runPipeline, type PipelineResult } from '../../helpers/prep/pipeline';
import { stageKeys } from '../../../shared/runs/keys';
import { currentPrepare } from '../../../shared/runs/record';

const rec = (i: number) => ({ instruction: `質問${i}`, input: '', output: `答え${i}`, category: 'open_qa' });
const body = Array.from({ length: 60 }, (_, i) => JSON.stringify(rec(i % 40))).join('\n') + '\n';
const config = { prep: { chunkBytes: 600 }, split: { train: 20, validation: 5, test: 5 } };

/**
 * The artifacts of a prepared run, read through a store that notes each read, when its stream ends, and the streams.
 */
function watched(r: PipelineResult) {
  const base = r.objects.artifacts(ARTIFACTS);
  const log: string[] = [];
  const streams = new Map<string, Readable>();
  const store: ArtifactStore = {
    ...base,
    read: async (key) => {
      log.push(`read ${key}`);
      const s = await base.read(key);
      s.on('end', () => log.push(`end ${key}`));
      streams.set(key, s);
      return s;
    },
  };
  return { store, log, streams };
}

/** What splitRun is told of the run a pipeline prepared: the same as split's own call (services/split). */
const runOf = (r: PipelineResult) => ({
  runId: r.run!.runId,
  keys: stageKeys(r.run!.runId, 0),
  source: r.run!.source,
  config: r.run!.config,
  plan: currentPrepare(r.run!)!.plan!,
});

describe("split reads each chunk's files one ahead", () => {
  let r: PipelineResult;
  beforeAll(async () => {
    r = await runPipeline(body, 'datasets/reads.jsonl', config);
  });

  it('asks for the next file before the one it works on is read to its end, and writes the same split', async () => {
    const chunks = await r.runs.listChunks(r.run!.runId, 0);
    expect(chunks.length).toBeGreaterThan(3);
    const written = (set: string) => r.objects.text(ARTIFACTS, `runs/${r.run!.runId}/stages/0/prepared/${set}.jsonl`);
    const before = ['train', 'validation', 'test'].map(written);
    r.objects.objects.delete(`${ARTIFACTS}/runs/${r.run!.runId}/stages/0/prepared/train.jsonl`);
    const { store, log } = watched(r);
    const again = await splitRun({
      ...runOf(r),
      chunks,
      store,
    });
    expect(again.ok).toBe(true);
    const sorted = [...chunks].sort((a, b) => a.index - b.index);
    for (let j = 0; j + 1 < sorted.length; j++) {
      expect(log.indexOf(`read ${sorted[j + 1]!.metaKey}`)).toBeLessThan(log.indexOf(`end ${sorted[j]!.metaKey}`));
    }
    expect(['train', 'validation', 'test'].map(written)).toEqual(before);
    expect(before[0]!.split('\n').filter(Boolean)).toHaveLength(20);
  });

  it('a split that stops on an error ends the read it had started ahead', async () => {
    const chunks = (await r.runs.listChunks(r.run!.runId, 0)).sort((a, b) => a.index - b.index);
    // The first chunk's kept.jsonl loses its lines: split notices it has fewer lines than meta.jsonl and stops.
    const saved = r.objects.get(ARTIFACTS, chunks[0]!.keptKey)!;
    r.objects.put(ARTIFACTS, chunks[0]!.keptKey, '');
    try {
      const { store, streams } = watched(r);
      await expect(
        splitRun({
          ...runOf(r),
          chunks,
          store,
        }),
      ).rejects.toThrow(/has 0 lines where/);
      const ahead = streams.get(chunks[1]!.rejectsKey)!;
      expect(ahead).toBeDefined();
      await new Promise((resolve) => setImmediate(resolve));
      expect(ahead.destroyed).toBe(true);
    } finally {
      r.objects.put(ARTIFACTS, chunks[0]!.keptKey, saved);
    }
  });
});

describe('how split writes the sets', () => {
  let r: PipelineResult;
  beforeAll(async () => {
    r = await runPipeline(body, 'datasets/sizes.jsonl', config);
  });

  /** Splits again through a store that notes how each file was asked to be written. */
  const splitNoting = async (
    chunks: Awaited<ReturnType<PipelineResult['runs']['listChunks']>>,
    streamedSetsMaxKeptBytes?: number,
  ) => {
    const base = r.objects.artifacts(ARTIFACTS);
    const asked = new Map<string, { partBytes?: number; size?: number } | undefined>();
    const store: ArtifactStore = {
      ...base,
      write: (key, type, opts) => {
        asked.set(key.split('/').pop()!, opts);
        return base.write(key, type, opts);
      },
    };
    const out = await splitRun({
      ...runOf(r),
      chunks,
      store,
      streamedSetsMaxKeptBytes,
    });
    return { out, asked };
  };
  const prepared = (set: string) => r.objects.text(ARTIFACTS, `runs/${r.run!.runId}/stages/0/prepared/${set}.jsonl`);

  it("announces each set's exact length, worked out from the metadata before a record is read", async () => {
    const { out, asked } = await splitNoting(await r.runs.listChunks(r.run!.runId, 0));
    expect(out.ok).toBe(true);
    for (const set of ['train', 'validation', 'test']) {
      expect(asked.get(`${set}.jsonl`)).toEqual({ size: Buffer.byteLength(prepared(set)) });
    }
    // The rejects' length is not known before they are written.
    expect(asked.get('rejects.jsonl')?.size).toBeUndefined();
  });

  it('writes the same sets in parts when the kept lines are past the bound for one streamed PUT', async () => {
    const chunks = await r.runs.listChunks(r.run!.runId, 0);
    const before = ['train', 'validation', 'test'].map(prepared);
    const { out, asked } = await splitNoting(chunks, 0);
    expect(out.ok).toBe(true);
    for (const set of ['train', 'validation', 'test'])
      expect(asked.get(`${set}.jsonl`)).toEqual({ partBytes: 5 * 1024 * 1024 });
    expect(['train', 'validation', 'test'].map(prepared)).toEqual(before);
  });
});
