import { parseMessage } from '../../../shared/messages/envelope';
import { ChunkRequested, ChunkTransformed } from '../../../shared/messages/pipeline';
import type { Run } from '../../../shared/runs/run';
import type { SplitManifest as Manifest } from '../../../shared/artifacts/manifest';
import { ingest, type IngestResult } from '../../../services/ingest/ingest';
import { transformChunk } from '../../../services/transform/transform';
import { splitOnChunk } from '../../../services/split/split';
import { buildSend } from '../../../shared/messages/send';
import { MemoryObjects, MemoryRunStore, memoryPublish, QUEUE_URLS } from './memory';

export const DATASETS = 'datasets-bucket';
export const ARTIFACTS = 'artifacts-bucket';

export interface PipelineResult {
  ingest: IngestResult;
  run?: Run;
  objects: MemoryObjects;
  runs: MemoryRunStore;
  published: ReturnType<typeof memoryPublish>['sent'];
  prepared(set: 'train' | 'validation' | 'test'): string[];
  rejects(): Array<Record<string, unknown>>;
  manifest(): Manifest;
}

/**
 * Runs ingest, every transform (in reverse order, as chunks may finish in any order) and split with in-memory
 * ports, as the queues would deliver them.
 */
/**
 * Where transform runs: 'shared' in this test's modules (whose state earlier pipelines of the file may have left),
 * 'one': every chunk in one environment of its own (the modules loaded afresh, as a new Lambda environment), 'each':
 * each chunk in a fresh environment, as when every chunk goes to another Lambda environment, 'two': two fresh
 * environments taking turns, as the bench's two threads (the second's first chunk keeps texts the first kept, and the
 * duplicates in its later chunks name that chunk's lines, which split renames).
 */
export type Environments = 'shared' | 'one' | 'each' | 'two';

/** The transform handler of a fresh environment: its modules loaded again, with none of their state. */
function freshTransform(): typeof transformChunk {
  let t!: typeof transformChunk;
  jest.isolateModules(() => {
    t = (require('../../../services/transform/transform') as typeof import('../../../services/transform/transform'))
      .transformChunk;
  });
  return t;
}

/**
 * Ingest, every chunk's transform, then split, in process. Chunks are transformed last first (as if delivered out of
 * order), so split finds the duplicates across chunks; `order: 'forward'` transforms them first to last, as one warm
 * environment that drops texts kept by its earlier chunks; `order: 'odd-first'` takes the odd chunks first, then the
 * even ones, each in ascending order (an environment that meets a chunk before one it has done).
 */
export async function runPipeline(
  body: Buffer | string,
  key: string,
  config?: Record<string, unknown>,
  objects = new MemoryObjects(),
  order: 'reverse' | 'forward' | 'odd-first' = 'reverse',
  environments: Environments = 'shared',
): Promise<PipelineResult> {
  const now = () => new Date('2025-01-01T00:00:00Z');
  const runs = new MemoryRunStore(now);
  const publish = memoryPublish();
  const send = buildSend(publish, QUEUE_URLS);
  objects.put(DATASETS, key, body);
  const datasets = objects.datasets();
  const artifacts = objects.artifacts(ARTIFACTS);
  const source = { bucket: DATASETS, key };
  const result = await ingest(
    config
      ? { kind: 'request', source, config, request: { runId: 'r-1', correlationId: 'c-1' } }
      : { kind: 'upload', source },
    {
      runs,
      send,
      datasets,
      artifactsBucket: ARTIFACTS,
      now,
    },
  );
  const chunkMsgs = publish.sent
    .filter((m) => m.queueUrl === QUEUE_URLS.transform)
    .map((m) => parseMessage(ChunkRequested, m.message));
  const one = environments === 'one' ? freshTransform() : transformChunk;
  const two = environments === 'two' ? [freshTransform(), freshTransform()] : undefined;
  const ordered =
    order === 'reverse'
      ? [...chunkMsgs].reverse()
      : order === 'odd-first'
        ? [1, 0].flatMap((odd) => chunkMsgs.filter((m) => m.payload.chunk.index % 2 === odd))
        : chunkMsgs;
  for (const [i, msg] of ordered.entries()) {
    const transform = environments === 'each' ? freshTransform() : two ? two[i % 2]! : one;
    await transform(msg, { runs, send, datasets, artifacts, now });
  }
  const doneMsgs = publish.sent
    .filter((m) => m.queueUrl === QUEUE_URLS.split)
    .map((m) => parseMessage(ChunkTransformed, m.message));
  for (const msg of doneMsgs) await splitOnChunk(msg, { runs, send, artifacts, count: () => undefined, now });
  const runId = 'runId' in result ? result.runId : undefined;
  const base = `runs/${runId}/stages/0/`;
  const lines = (k: string) => objects.text(ARTIFACTS, k).split('\n').filter(Boolean);
  return {
    ingest: result,
    run: runId ? await runs.get(runId) : undefined,
    objects,
    runs,
    published: publish.sent,
    prepared: (set) => lines(`${base}prepared/${set}.jsonl`),
    rejects: () => lines(`${base}rejects.jsonl`).map((l) => JSON.parse(l) as Record<string, unknown>),
    manifest: () => JSON.parse(objects.text(ARTIFACTS, `${base}manifest.json`)) as Manifest,
  };
}
