import { sampleJsonl } from '../../local/sample/generate';
import type { RunConfigInput } from '../../shared/config/run-config';
import { runCounts } from '../../shared/runs/record';
import { countsAddUp, figure, startRig, type Rig } from './harness';

/**
 * Load: 20 runs started at once, each on a dataset of its own size, all complete; none waits on another beyond the
 * functions' concurrency, and no run carries another's state (its counts are those of its own input, its job and
 * throughput are its own). Bedrock's account quotas are raised here: waiting for a quota is the Bedrock faults' area.
 */
jest.setTimeout(1_200_000);

const RUNS = 20;
const CONFIG: RunConfigInput = {
  split: { train: 40, validation: 6, test: 0 },
  // A time to live far past the test's end: on the fast clock the default 2 hours pass in seconds, and the sweeper
  // would delete an early run's throughput before the last run ends and the test counts them.
  // Provisioned Throughput by name: the suite counts each run's throughputs (the default Nova model deploys instead).
  provisioning: { enabled: true, serving: 'provisioned-throughput', evaluateSamples: 0, ttlHours: 10_000 },
};

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
  rig.stack.bedrock.faults.setQuotas({ noCommitmentThroughputs: 100, concurrentJobs: 100 });
}, 120_000);
afterAll(() => rig?.stop());

describe('20 runs started at once', () => {
  it('all complete, each with its own state', async () => {
    // given datasets of 20 different sizes
    const sizes = Array.from({ length: RUNS }, (_, i) => 50 + i);
    const started = Date.now();
    // when every dataset is uploaded at the same moment
    const keys = await Promise.all(sizes.map((n) => rig.upload(`datasets/load/n${n}.jsonl`, sampleJsonl(n), CONFIG)));
    const runs = await Promise.all(keys.map((k) => rig.endedRunOf(k, 300_000)));
    const wall = (Date.now() - started) / 1000;

    // then every run succeeded with the counts of its own input, one job and one throughput of its own
    const problems: string[] = [];
    const arns = new Set<string>();
    for (const [i, run] of runs.entries()) {
      const name = run.source.key;
      if (run.status !== 'succeeded') problems.push(`${name}: ${run.status} ${run.failure?.reason ?? ''}`);
      const bad = countsAddUp(run);
      if (bad) problems.push(bad);
      // the generated sample has one record per line: a run that read another's input would count another total
      if (runCounts(run)?.input !== sampleJsonl(sizes[i]!).split('\n').filter(Boolean).length)
        problems.push(`${name}: counted ${runCounts(run)?.input} input records`);
      const jobs = await rig.jobsOf(run.runId);
      const tps = await rig.throughputsOf(run.runId);
      if (jobs.length !== 1 || tps.length !== 1)
        problems.push(`${name}: ${jobs.length} jobs, ${tps.length} throughputs`);
      for (const arn of [run.modelArn, run.provisionedModelArn]) {
        if (!arn || arns.has(arn)) problems.push(`${name}: shares or lacks ${arn}`);
        arns.add(arn ?? '');
      }
    }
    const took = runs.map((r) => (Date.parse(r.updatedAt) - Date.parse(r.createdAt)) / 1000);
    const slowest = Math.max(...took);
    figure(
      `load: ${RUNS} runs started at once, ${runs.filter((r) => r.status === 'succeeded').length} succeeded, ` +
        `wall time ${wall.toFixed(1)} s, slowest run ${slowest.toFixed(1)} s, ` +
        `median run ${took.sort((a, b) => a - b)[Math.floor(took.length / 2)]!.toFixed(1)} s, ${problems.length} problems`,
    );
    expect(problems).toEqual([]);
  });
});
