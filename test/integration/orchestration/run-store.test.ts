import { startLocalEnv, type LocalEnv } from '../../helpers/orchestration/local-env';
import { makeRun } from '../../helpers/orchestration/fakes';

let env: LocalEnv;
beforeAll(async () => {
  env = await startLocalEnv();
}, 60_000);
afterAll(async () => {
  await env?.close();
});

describe('the DynamoDB run store', () => {
  it('lets one of two racing writes guarded by `unless` through, and refuses the other', async () => {
    // given a run in `provisioning`, and two writers that read it before either wrote
    const run = { ...makeRun('store-race'), status: 'provisioning' as const };
    expect(await env.runs.create(run, { type: 'run.created' })).toBe(true);
    const arn = 'arn:aws:bedrock:us-east-1:000000000000:provisioned-model/ptrace000001';
    const write = () =>
      env.runs.update(
        run.runId,
        'provisioning',
        { provisionedModelArn: arn },
        { type: 'throughput.created', detail: { provisionedModelArn: arn } },
        { seen: run, unless: (r) => r.provisionedModelArn === arn },
      );
    // when both write at once, each on the version it read
    const results = await Promise.all([write(), write()]);
    // then the second write's retry reads the first's result and is refused: one write, one event
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    expect((await env.runs.get(run.runId))?.version).toBe(run.version + 1);
    const events = await env.runs.listEvents(run.runId);
    expect(events.filter((e) => e.type === 'throughput.created')).toHaveLength(1);
  });

  it('writes when the guard does not hold', async () => {
    const run = { ...makeRun('store-unguarded'), status: 'provisioning' as const };
    await env.runs.create(run, { type: 'run.created' });
    const next = await env.runs.update(run.runId, 'provisioning', { provisionedModelArn: 'a' }, undefined, {
      unless: (r) => r.provisionedModelArn !== undefined,
    });
    expect(next?.provisionedModelArn).toBe('a');
  });
});
