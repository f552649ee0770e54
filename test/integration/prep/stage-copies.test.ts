import { buildDeps as ingestDeps } from '../../../services/ingest/deps';
import { ingest } from '../../../services/ingest/ingest';
import { resolveRunConfig } from '../../../shared/config/run-config';
import type { Run } from '../../../shared/runs/run';
import { currentPrepare } from '../../../shared/runs/record';
import { TITAN_2024 } from '../../helpers/orchestration/fakes';
import { startPrepEnv, type PrepEnv } from '../../helpers/prep/emulated-env';

/**
 * A chained run's next stage is requested by the monitor when the previous stage's model is ready, and requested again
 * when a later signal about that job cannot tell the first request went out: two copies of stage.requested are
 * routine. Ingest on the emulators with the real SDK clients, one copy held at its first read of the dataset while
 * the other plans the stage.
 */
let env: PrepEnv;
beforeAll(async () => {
  env = await startPrepEnv();
}, 60_000);
afterAll(async () => {
  await env?.stop();
});

const lines = (n: number) =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ instruction: `質問${i}`, input: '', output: `答え${i}` }))
    .join('\n')
    .concat('\n');

/** A two-stage run whose first stage is trained, moved by the monitor to `preparing` its second stage. */
async function givenSecondStage(runId: string): Promise<void> {
  await env.put('inputs/stage-copies.jsonl', lines(30));
  const config = resolveRunConfig({
    ...TITAN_2024,
    stages: [
      { customizationType: 'CONTINUED_PRE_TRAINING', prep: { template: { kind: 'text' } } },
      { dataset: { key: 'inputs/stage-copies.jsonl' }, customizationType: 'FINE_TUNING' },
    ],
  });
  const at = new Date().toISOString();
  const run: Run = {
    runId,
    status: 'preparing',
    version: 1,
    createdAt: at,
    updatedAt: at,
    source: { bucket: env.buckets.datasets, key: 'inputs/corpus.jsonl' },
    config,
    artifactsPrefix: `s3://${env.buckets.artifacts}/runs/${runId}/`,
    stages: [
      { prepare: { status: 'done', endedAt: at }, jobs: [{ status: 'done', attempt: 1 }] },
      { prepare: { status: 'pending' }, jobs: [{ status: 'pending', attempt: 1 }] },
    ],
  };
  expect(await env.runs.create(run, { type: 'job.completed' })).toBe(true);
}

describe("two copies of a chained run's stage request", () => {
  it('that both read the run before either planned the stage record one plan', async () => {
    // given a run preparing its second stage
    const runId = 'stage-copies';
    await givenSecondStage(runId);
    const request = { kind: 'stage', runId, stage: 1, correlationId: runId } as const;
    // when one copy reads the run and is held up at its first look at the stage's dataset
    const deps = ingestDeps(process.env);
    let reached!: () => void;
    let release!: () => void;
    const arrived = new Promise<void>((r) => (reached = r));
    const gate = new Promise<void>((r) => (release = r));
    const head: typeof deps.datasets.head = async (ref) => {
      reached();
      await gate;
      return deps.datasets.head(ref);
    };
    const held = ingest(request, { ...deps, datasets: { ...deps.datasets, head } });
    await arrived;
    // and the other copy plans the stage and queues its chunks
    expect(await ingest(request, deps)).toMatchObject({ outcome: 'planned' });
    const queued = await env.drain(env.queues.transform);
    expect(queued.length).toBeGreaterThan(0);
    // and then the held copy goes on
    release();
    const outcome = await held;
    // then the stage was planned once, and its chunks queued once
    const planned = (await env.runs.listEvents(runId)).filter((e) => e.type === 'ingest.planned');
    expect(planned.map((e) => `${e.seq} ${JSON.stringify(e.detail)}`)).toHaveLength(1);
    expect(outcome).toMatchObject({ outcome: 'replayed' });
    expect(await env.drain(env.queues.transform)).toHaveLength(0);
    expect(currentPrepare((await env.runs.get(runId))!)?.plan?.chunks).toBe(queued.length);
  });
});
