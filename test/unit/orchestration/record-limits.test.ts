import { findBaseModel, customizationSpec } from '../../../shared/catalog/lookup';
import { resolveRunConfig } from '../../../shared/config/run-config';
import {
  recordLimitHint,
  recordLimitProblems,
  recordQuotasFromEnv,
  stageRecordLimitErrors,
} from '../../../shared/orchestration/record-limits';
import { ingest } from '../../../services/ingest/ingest';
import { runPipeline } from '../../helpers/prep/pipeline';
import { MemoryObjects, MemoryRunStore, memoryPublish, QUEUE_URLS } from '../../helpers/prep/memory';
import { buildSend } from '../../../shared/messages/send';
import { settingsFromEnv } from '../../../shared/orchestration/settings';
import { submitJob } from '../../../services/submit/submit';
import { makeRun, makeWorld, putPrepared } from '../../helpers/orchestration/fakes';
import { DEFAULT_QUOTAS } from '../../../local/bedrock';
import { loadServerlessConfig } from '../../../local/stack/serverless-config';

const titan = findBaseModel('amazon.titan-text-lite-v1:0:4k')!;
const cohere = findBaseModel('cohere.command-light-text-v14:7:4k')!;
const training = resolveRunConfig({}).training;
const perJob = (value: number) => ({ value, setting: 'stages[0].maxRecordsPerJob' });

describe('record limits in the preflight', () => {
  it("fails a maxRecordsPerJob over the deployment's declared quota for a model with no published one", () => {
    const spec = customizationSpec(titan, 'CONTINUED_PRE_TRAINING')!;
    const { errors } = recordLimitProblems({
      model: titan,
      spec,
      training,
      trainRecords: 8_000,
      validationRecords: 0,
      maxRecordsPerJob: perJob(100_000),
      deploymentQuotas: { maxTrainingRecords: 10_000 },
    });
    expect(errors).toEqual([
      expect.stringMatching(
        /^stages\[0\]\.maxRecordsPerJob is 100000, over the 10000 training records .*BTP_RECORD_QUOTAS.*set stages\[0\]\.maxRecordsPerJob to at most 10000$/,
      ),
    ]);
  });

  it('fails a job whose records exceed the published quota, naming the setting of a raised one', () => {
    const spec = customizationSpec(cohere, 'FINE_TUNING')!;
    const { errors } = recordLimitProblems({
      model: cohere,
      spec,
      training,
      trainRecords: 12_000,
      validationRecords: 0,
    });
    expect(errors).toEqual([
      expect.stringMatching(
        /^12000 training records exceed the quota of 10000 .*set training.quotas.maxTrainingRecords$/,
      ),
    ]);
  });

  it("lets the run's own quota win, and only warns where no quota is known", () => {
    const spec = customizationSpec(titan, 'CONTINUED_PRE_TRAINING')!;
    const raised = resolveRunConfig({ training: { quotas: { maxTrainingRecords: 200_000 } } }).training;
    const withRaised = recordLimitProblems({
      model: titan,
      spec,
      training: raised,
      trainRecords: 90_000,
      validationRecords: 0,
      maxRecordsPerJob: perJob(100_000),
      deploymentQuotas: { maxTrainingRecords: 10_000 },
    });
    expect(withRaised.errors).toEqual([]);
    const unknown = recordLimitProblems({
      model: titan,
      spec,
      training,
      trainRecords: 90_000,
      validationRecords: 0,
      maxRecordsPerJob: perJob(100_000),
    });
    expect(unknown.errors).toEqual([]);
    expect(unknown.warnings).toEqual([expect.stringMatching(/no published quota .*BTP_RECORD_QUOTAS/)]);
  });

  it('reads the deployment quotas from BTP_RECORD_QUOTAS and refuses a malformed value', () => {
    expect(recordQuotasFromEnv(undefined)).toEqual({});
    expect(recordQuotasFromEnv('')).toEqual({});
    expect(recordQuotasFromEnv('{"maxTrainingRecords":5}')).toEqual({ maxTrainingRecords: 5 });
    expect(() => recordQuotasFromEnv('{"maxTrainingRecord":5}')).toThrow(/BTP_RECORD_QUOTAS/);
    expect(() => recordQuotasFromEnv('10000')).toThrow(/BTP_RECORD_QUOTAS/);
  });

  it("the local stage declares the Bedrock emulator's own record quotas", async () => {
    const resolved = await loadServerlessConfig('local');
    const env = resolved.provider.environment as Record<string, string>;
    expect(settingsFromEnv({ ...env, BTP_ARTIFACTS_BUCKET: 'a', BTP_BEDROCK_ROLE_ARN: 'r' }).recordQuotas).toEqual({
      maxTrainingRecords: DEFAULT_QUOTAS.maxTrainingRecords,
      maxValidationRecords: DEFAULT_QUOTAS.maxValidationRecords,
    });
  }, 120_000);

  it('fails the run at submit, before Bedrock is called, with the setting to change', async () => {
    const world = makeWorld();
    const deps = { ...world.deps, settings: { ...world.deps.settings, recordQuotas: { maxTrainingRecords: 10 } } };
    const config = { stages: [{ maxRecordsPerJob: 50 }] };
    world.runs.items.set('run-limit', makeRun('run-limit', config));
    putPrepared(world.objects, 'run-limit', { config });
    const trigger = { kind: 'prepared', manifestKey: 'runs/run-limit/stages/0/manifest.json', stage: 0 } as const;
    expect(await submitJob('run-limit', trigger, deps)).toBe('failed');
    const run = (await world.runs.get('run-limit'))!;
    expect(run.failure!.reason).toMatch(/20 training records exceed the quota of 10/);
    expect(run.failure!.reason).toMatch(/set stages\[0\]\.maxRecordsPerJob to at most 10/);
    expect(world.bedrock.calls).toEqual([]);
  });
});

describe('record limits caught as early as they are known', () => {
  const dolly = (n: number) =>
    Array.from({ length: n }, (_, i) =>
      JSON.stringify({ instruction: `質問 ${i}`, input: '', output: `答え ${i}`, category: 'qa' }),
    ).join('\n');
  // The run's own quota (training.quotas) applies whatever the default base model, so these do not depend on it.
  const quota30 = { training: { quotas: { maxTrainingRecords: 30 } } };

  it("from the configuration alone: a later stage's maxRecordsPerJob over the quota fails the run at ingest", async () => {
    // given a chained run whose second stage would train in jobs of 100 records, where one job may hold 30
    const config = resolveRunConfig({
      ...quota30,
      stages: [{}, { dataset: { key: 'inputs/b.jsonl' }, maxRecordsPerJob: 100 }],
    });
    expect(stageRecordLimitErrors(config, 0, undefined)).toEqual([]);
    expect(stageRecordLimitErrors(config, 1, undefined)).toEqual([
      expect.stringMatching(/^stages\[1\]\.maxRecordsPerJob is 100, over the 30 training records /),
    ]);

    // when its dataset is requested
    const objects = new MemoryObjects();
    objects.put('datasets-bucket', 'datasets/a.jsonl', dolly(60));
    const now = () => new Date('2025-01-01T00:00:00Z');
    const runs = new MemoryRunStore(now);
    const publish = memoryPublish();
    const result = await ingest(
      {
        kind: 'request',
        source: { bucket: 'datasets-bucket', key: 'datasets/a.jsonl' },
        config: { ...quota30, stages: [{}, { dataset: { key: 'inputs/b.jsonl' }, maxRecordsPerJob: 100 }] },
        request: { runId: 'r-1', correlationId: 'c-1' },
      },
      { runs, send: buildSend(publish, QUEUE_URLS, now), datasets: objects.datasets(), artifactsBucket: 'a', now },
    );

    // then the run fails before any of its data is prepared or any stage trains, with the limit and what to change
    expect(result.outcome).toBe('failed');
    const run = (await runs.get((result as { runId: string }).runId))!;
    expect(run.status).toBe('failed');
    expect(run.failure).toMatchObject({ stage: 'ingest' });
    expect(run.failure!.reason).toMatch(/^stage 1: stages\[1\]\.maxRecordsPerJob is 100, over the 30 training records/);
    expect(run.failure!.hint).toMatch(/set stages\[1\]\.maxRecordsPerJob to at most 30; then upload the data again/);
    expect(publish.sent.filter((m) => m.queueUrl === QUEUE_URLS.transform)).toEqual([]);
  });

  it('from the counts: a split whose training set is over the quota fails the run at split, not at submit', async () => {
    // given 60 records and a run asking for 40 training records where a job may hold 30
    const r = await runPipeline(dolly(60), 'datasets/a.jsonl', {
      ...quota30,
      split: { train: 40, validation: 5, test: 5 },
    });

    // then the run fails at split with the count, the limit and the settings to change; submit is never told
    expect(r.run!.status).toBe('failed');
    expect(r.run!.failure).toMatchObject({ stage: 'split' });
    expect(r.run!.failure!.reason).toMatch(/^40 training records exceed the quota of 30 .*training\.quotas/);
    expect(r.run!.failure!.hint).toMatch(
      /^lower split\.train \(or split\.validation\) under the quota, or train in sequential jobs \(stages\[\]\.maxRecordsPerJob\)/,
    );
    expect(r.published.filter((m) => m.queueUrl === QUEUE_URLS.submit)).toEqual([]);
    // and the split's counts stay on the run, so the summary shows what was prepared
    expect(r.run!.stages[0]!.prepare.counts?.kept).toBe(60);
  });

  it('a stage trained in sequential jobs under the quota passes: each job holds one part', async () => {
    const r = await runPipeline(dolly(60), 'datasets/a.jsonl', {
      ...quota30,
      split: { train: 40, validation: 5, test: 5 },
      stages: [{ maxRecordsPerJob: 20 }],
    });
    expect(r.run!.status).toBe('submitting');
    expect(r.run!.stages[0]!.prepare.split?.parts?.map((p) => p.records)).toEqual([20, 20]);
  });

  it("the hint names each error's own setting once, after the way to fewer records per job", () => {
    const hint = recordLimitHint(
      [
        "40 training records exceed the quota of 30 for X (training.quotas.maxTrainingRecords); if your account's " +
          'quota is higher, set training.quotas.maxTrainingRecords',
      ],
      'stages[1].',
    );
    expect(hint).toBe(
      'lower stages[1].split.train (or stages[1].split.validation) under the quota, or train in sequential jobs ' +
        "(stages[1].maxRecordsPerJob); if your account's quota is higher, set training.quotas.maxTrainingRecords; " +
        'then upload the data again with the new configuration (btp run <file> --config <run.json>)',
    );
  });
});
