import { GetObjectCommand } from '@aws-sdk/client-s3';
import { handler as submit } from '../../../services/submit/handler';
import { handler as monitor } from '../../../services/monitor/handler';
import { handler as provision } from '../../../services/provision/handler';
import { handler as evaluate } from '../../../services/evaluate/handler';
import { EvaluationSample, readJsonLines } from '../../../shared/artifacts';
import type { Run } from '../../../shared/runs/run';
import { resolveRunConfig, type RunConfigInput } from '../../../shared/config/run-config';
import { TITAN_RECIPE_DATE } from '../../../shared/catalog';
import { TITAN_2024 } from '../../helpers/orchestration/fakes';

import {
  BUCKET,
  drive,
  givenPreparedRun,
  records,
  send,
  startLocalEnv,
  type LocalEnv,
} from '../../helpers/orchestration/local-env';

/** The 2024 Titan recipe's configuration, with a test's own settings over it. */
const titan = (config: RunConfigInput = {}) => resolveRunConfig(TITAN_2024, config);

jest.setTimeout(120_000);

let env: LocalEnv;
const handlers = { submit, monitor, provision, evaluate };

beforeAll(async () => {
  // These runs are the 2024 Titan recipe's (prompt/completion records): Bedrock as it was then.
  env = await startLocalEnv({ catalogDate: TITAN_RECIPE_DATE });
});
afterAll(async () => {
  await env?.close();
});

const run = async (runId: string) => (await env.runs.get(runId))!;
const inStatus =
  (runId: string, ...statuses: Run['status'][]) =>
  async () =>
    statuses.includes((await run(runId)).status);

describe('a fine-tuning run tries its new model before it succeeds', () => {
  it("goes provisioning -> evaluating -> succeeded with the Bedrock emulator's answers in evaluation/samples.jsonl", async () => {
    // given a prepared run whose held-out test set repeats two training prompts and has one the model never saw
    const train = records(40);
    const test = [...records(2), ...records(2, 900)];
    const config = titan({ provisioning: { evaluateSamples: 3 }, evaluation: { baseModel: 'always' } });
    const prepared = await givenPreparedRun(env, 'ft-eval', config, {
      train,
      validation: records(8, 100),
      test,
    });
    await send(env, 'submit', prepared);
    // when the handlers run until the run ends, every message delivered twice
    await drive(env, handlers, inStatus('ft-eval', 'succeeded', 'failed'), { beforeInvoke: () => 'duplicate' });
    // then the run succeeded through evaluating, once
    const r = await run('ft-eval');
    expect(r.failure).toBeUndefined();
    expect(r.status).toBe('succeeded');
    const events = await env.runs.listEvents('ft-eval');
    const moves = events.filter((e) => e.from && e.to && e.from !== e.to).map((e) => `${e.from}->${e.to}`);
    expect(moves.slice(-2)).toEqual(['provisioning->evaluating', 'evaluating->succeeded']);
    expect(events.filter((e) => e.type === 'evaluation.done')).toHaveLength(1);
    expect(r.evaluation?.result).toMatchObject({
      samplesKey: 'runs/ft-eval/evaluation/samples.jsonl',
      samples: 3,
      failed: 0,
      scoresKey: 'runs/ft-eval/evaluation/scores.json',
    });
    // and the held-out check read the training and validation sets from S3 and found the two repeated prompts, which
    // are left out of the scores
    expect(r.evaluation?.result?.heldOut).toEqual({
      testKey: 'runs/ft-eval/stages/0/prepared/test.jsonl',
      checked: 3,
      against: [
        { key: 'runs/ft-eval/stages/0/prepared/train.jsonl', records: 40 },
        { key: 'runs/ft-eval/stages/0/prepared/validation.jsonl', records: 8 },
      ],
      overlapping: 2,
      overlappingIndexes: [0, 1],
    });
    expect(r.evaluation?.result?.scores?.overall).toMatchObject({ samples: 1, answered: 1 });
    // the answers are the emulator's, and the run says so (the report shows it)
    expect(r.evaluation?.result?.emulated).toMatch(/^Bedrock emulator: no model ran/);
    // and the base model, Titan Text G1 - Lite on demand, was asked the same prompts and scored
    expect(r.evaluation?.result?.base).toMatchObject({
      modelId: 'amazon.titan-text-lite-v1',
      scoresKey: expect.stringMatching(/^runs\/ft-eval\/evaluation\/base\/[0-9a-f]{16}\/scores\.json$/),
      overall: { samples: 1, answered: 1 },
    });
    // and the samples are the first three test prompts with the provisioned model's answers: the emulator answers a
    // prompt it was trained on with that record's completion, and any other with one of its training completions
    const out = await env.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: r.evaluation!.result!.samplesKey }));
    const text = await out.Body!.transformToString();
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.prompt)).toEqual(test.slice(0, 3).map((t) => t.prompt));
    expect(lines.map((l) => l.reference)).toEqual(test.slice(0, 3).map((t) => t.completion));
    expect(lines[0]!.modelOutput).toBe(train[0]!.completion);
    expect(lines[1]!.modelOutput).toBe(train[1]!.completion);
    expect(train.map((t) => t.completion)).toContain(lines[2]!.modelOutput);
    // which is what the run report reads
    expect(readJsonLines(EvaluationSample, text, r.evaluation!.result!.samplesKey)).toHaveLength(3);
  });
});
