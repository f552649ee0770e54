import { sampleJsonl } from '../../local/sample/generate';
import type { RunConfigInput } from '../../shared/config/run-config';
import { differencesFrom, figure, normalizeArtifacts, seeded, startRig, type Rig } from './harness';

/**
 * Duplicates: SQS delivers at least once and S3 may notify twice. Every batch of every queue is delivered two or three
 * times (two copies at the same moment), every dataset is uploaded twice with the same bytes and its notification
 * replayed after the run ended: each upload and configuration still makes exactly one run, one job and one throughput,
 * with the artifacts of a run that saw every message once.
 */
jest.setTimeout(1_200_000);

const SEED = Number(process.env.BTP_RELIABILITY_SEED ?? Date.now() % 1_000_000);
const RUNS = 20;
const AT_ONCE = 5;
const CONFIG: RunConfigInput = {
  split: { train: 40, validation: 6, test: 4 },
  // A time to live far past the test: on the fast clock the default 2 hours pass in seconds, and the sweeper would
  // delete a throughput while its run is still evaluating.
  // Provisioned Throughput by name: the test counts each run's throughputs (the default Nova model deploys instead).
  provisioning: { enabled: true, serving: 'provisioned-throughput', evaluateSamples: 2, ttlHours: 10_000 },
};
const DATA = sampleJsonl(60);

const random = seeded(SEED);
let duplicating = false;
let copies = 0;
const copyErrors: string[] = [];

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({
    deliveries: () => {
      if (!duplicating) return 1;
      const n = random() < 0.25 ? 3 : 2;
      copies += n - 1;
      return n;
    },
    onInvoke: ({ functionName, error }) => {
      if (duplicating && error) copyErrors.push(`${functionName}: ${error.message}`);
    },
  });
  rig.stack.bedrock.faults.setQuotas({ noCommitmentThroughputs: 100, concurrentJobs: 100 });
}, 120_000);
afterAll(() => rig?.stop());

describe('every message delivered more than once', () => {
  it('makes one run, one job and one throughput per upload, with the artifacts of a clean run', async () => {
    // given a run of the data with every message delivered once, as the reference
    const reference = await rig.endedRunOf(await rig.upload('datasets/dup/reference.jsonl', DATA, CONFIG), 180_000);
    expect(reference.status).toBe('succeeded');
    await rig.settle();
    const expected = normalizeArtifacts(reference, await rig.artifactBytes(reference.runId));

    // when the same bytes are uploaded under other keys, each twice, with every batch delivered two or three times
    duplicating = true;
    const started = Date.now();
    const keys: string[] = [];
    for (let i = 0; i < RUNS; i += AT_ONCE) {
      const batch = Array.from({ length: Math.min(AT_ONCE, RUNS - i) }, (_, j) => `datasets/dup/run-${i + j}.jsonl`);
      await Promise.all(batch.map((k) => rig.upload(k, DATA, CONFIG).then(() => rig.upload(k, DATA))));
      keys.push(...batch);
      await Promise.all(batch.map((k) => rig.endedRunOf(k, 400_000)));
    }
    // and every upload is notified once more after its run ended
    await Promise.all(keys.map((k) => rig.upload(k, DATA)));
    await rig.settle(60_000);
    duplicating = false;

    // then each upload has one run, which ended as the reference did, with its artifacts, one job and one throughput
    const problems: string[] = [];
    const runs = await Promise.all(keys.map((k) => rig.runsOf(k)));
    const extraRuns = runs.reduce((n, r) => n + Math.max(0, r.length - 1), 0);
    let extraJobs = 0;
    let extraThroughputs = 0;
    for (const [run] of runs) {
      if (!run) continue;
      const final = (await rig.store.get(run.runId))!;
      problems.push(...(await differencesFrom(rig, { run: reference, artifacts: expected }, final)));
      extraJobs += Math.max(0, (await rig.jobsOf(run.runId)).length - 1);
      extraThroughputs += Math.max(0, (await rig.throughputsOf(run.runId)).length - 1);
    }
    const lost = runs.filter((r) => r.length === 0).length;
    const dead = await rig.deadLetters();
    figure(
      `duplicates: seed ${SEED}, ${keys.length} runs, ${copies} extra deliveries, ${keys.length * 2} extra ` +
        `notifications, ${extraRuns} extra runs, ${extraJobs} extra jobs, ${extraThroughputs} extra throughputs, ` +
        `${lost} lost uploads, ${problems.length} differences from the reference, ${dead.length} dead letters, ` +
        `${copyErrors.length} failed deliveries, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(problems).toEqual([]);
    expect(extraRuns + extraJobs + extraThroughputs + lost).toBe(0);
    expect(dead).toEqual([]);
    expect(copyErrors).toEqual([]);
  });
});
