import type { SQSEvent } from 'aws-lambda';
import type { CrashPoint } from '../../local/stack/lambda-runner';
import { sampleJsonl } from '../../local/sample/generate';
import type { RunConfigInput } from '../../shared/config/run-config';
import { differencesFrom, figure, normalizeArtifacts, reportOf, seeded, startRig, type Rig } from './harness';

/**
 * Crashes: the local Lambda runner kills invocations at a random AWS SDK call, before the request leaves or as its
 * response arrives (before and after each write), in every function, and every run must still end as a clean run of
 * the same bytes ends: the same status, byte-identical artifacts, counts that add up, one job and one throughput, and
 * no message in a dead-letter queue. The seed is printed; BTP_RELIABILITY_SEED replays one.
 */
jest.setTimeout(1_200_000);

const SEED = Number(process.env.BTP_RELIABILITY_SEED ?? Date.now() % 1_000_000);
const RUNS = 20;
const MIN_CRASHES = 100;
/**
 * A function's crashes stop once this many have fired in it: each costs a fresh environment (the bundle loaded again),
 * and the busiest functions (monitor's and provision's polls, the sweeper every 2 s) would otherwise take most of
 * them and make the area slow on a loaded machine, past the hundred in all.
 */
const MAX_CRASHES_PER_FUNCTION = 25;
/** Every function of serverless.yml takes crashes; the sweeper runs on its schedule, the others from their queues. */
const CONFIG: RunConfigInput = {
  split: { train: 40, validation: 6, test: 4 },
  // A time to live far past the test: on the fast clock the default 2 hours pass in seconds, and the sweeper would
  // delete a throughput while its run is still evaluating.
  // Provisioned Throughput by name: runs are held to one throughput each (the default Nova model deploys instead).
  provisioning: { enabled: true, serving: 'provisioned-throughput', evaluateSamples: 2, ttlHours: 10_000 },
};
const DATA = sampleJsonl(60);

const random = seeded(SEED);
/** The most SDK calls an invocation of each function made when nothing crashed: where a crash point can land. */
const callsSeen: Record<string, number> = {};
const crashes: Record<string, { before: number; after: number }> = {};
let armed = false;

/**
 * A crash for most invocations (the sweeper, which runs every 2 s whatever the runs do, for one in four), never for a
 * record already received three times: five receives move a message to its dead-letter queue, and a message that
 * crashed its function five times in a row would be the suite's doing, not the product's. Twenty runs at once share
 * their functions' batches, so most invocations must crash for the crashes to pass a hundred.
 */
function plan(functionKey: string, event: unknown): CrashPoint | undefined {
  if (!armed || random() > (functionKey === 'sweeper' ? 0.25 : 0.85)) return undefined;
  const c = crashes[functionKey];
  if (c && c.before + c.after >= MAX_CRASHES_PER_FUNCTION) return undefined;
  const records = (event as Partial<SQSEvent>)?.Records ?? [];
  if (records.some((r) => Number(r.attributes?.ApproximateReceiveCount ?? 1) >= 3)) return undefined;
  const calls = callsSeen[functionKey] ?? 0;
  if (calls === 0) return undefined;
  return { atCall: 1 + Math.floor(random() * calls), when: random() < 0.5 ? 'before' : 'after' };
}

const fired = () => Object.values(crashes).reduce((n, c) => n + c.before + c.after, 0);

const took = (run: { createdAt: string; updatedAt: string }) =>
  (Date.parse(run.updatedAt) - Date.parse(run.createdAt)) / 1000;

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({
    scheduleEverySeconds: 2,
    faults: {
      plan,
      done: (key, { sdkCalls, crashed }) => {
        if (crashed) {
          crashes[key] ??= { before: 0, after: 0 };
          crashes[key][crashed.when]++;
        } else callsSeen[key] = Math.max(callsSeen[key] ?? 0, sdkCalls);
      },
    },
  });
  rig.stack.bedrock.faults.setQuotas({ noCommitmentThroughputs: 100, concurrentJobs: 100 });
}, 120_000);
afterAll(() => rig?.stop());

describe('crashes at random SDK calls inside every function', () => {
  it('leave every run in the end state of a clean run, with the same artifacts and nothing dead-lettered', async () => {
    // given a clean run of the data, as the reference
    const reference = await rig.endedRunOf(await rig.upload('datasets/crash/reference.jsonl', DATA, CONFIG), 180_000);
    expect(reference.status).toBe('succeeded');
    await reportOf(rig, reference); // the report is written after the run ends
    const expected = normalizeArtifacts(reference, await rig.artifactBytes(reference.runId));

    // when the same bytes are uploaded under twenty other keys at once, with crashes armed
    armed = true;
    const started = Date.now();
    const keys = await Promise.all(
      Array.from({ length: RUNS }, (_, i) => rig.upload(`datasets/crash/run-${i}.jsonl`, DATA, CONFIG)),
    );
    const runs = await Promise.all(keys.map((k) => rig.endedRunOf(k, 600_000)));
    await rig.settle(60_000);
    armed = false;
    // every run's end is announced, and its report written, even where a crash came between the two
    for (const run of runs) await reportOf(rig, run);

    // then every run ended as the reference did, with its artifacts, once
    const problems: string[] = [];
    for (const run of runs)
      problems.push(...(await differencesFrom(rig, { run: reference, artifacts: expected }, run)));
    const dead = await rig.deadLetters();
    const perFunction = Object.entries(crashes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, c]) => `${k} ${c.before}+${c.after}`)
      .join(', ');
    figure(
      `crashes: seed ${SEED}, ${runs.length} runs, ${fired()} injected crashes (before+after a call: ${perFunction}), ` +
        `${runs.filter((r) => r.status === reference.status).length} runs in the reference end state, ` +
        `slowest run ${Math.max(...runs.map(took)).toFixed(1)} s, ${problems.length} problems, ${dead.length} dead letters, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(problems).toEqual([]);
    expect(dead).toEqual([]);
    expect(fired()).toBeGreaterThanOrEqual(MIN_CRASHES);
    for (const fn of Object.keys(rig.stack.topology.functions)) expect(crashes[fn]).toBeDefined();
  });
});
