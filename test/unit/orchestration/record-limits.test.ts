import { findBaseModel, customizationSpec } from '../../../shared/catalog/lookup';
import { resolveRunConfig } from '../../../shared/config/run-config';
import { recordLimitProblems, recordQuotasFromEnv } from '../../../shared/orchestration/record-limits';
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
