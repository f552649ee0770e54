import { findPrices, PRICES } from '../../../shared/catalog/prices';
import { backoffSeconds, sqsDelay } from '../../../shared/orchestration/backoff';
import { budgetProblem, estimateCost } from '../../../shared/orchestration/cost';
import { ArtifactError, finalLoss, parseMetricsCsv, readJobMetrics } from '../../../shared/artifacts';
import { jobName, runIdNameProblem, runIdOfJobName } from '../../../shared/orchestration/naming';
import { ProvisioningConfig } from '../../../shared/config/run-config';
import { MemoryObjects } from '../../helpers/orchestration/fakes';

describe('naming', () => {
  it('derives job names from run, stage and attempt, and recovers the run from them', () => {
    const name = jobName({ runId: 'r-20260101-abc', stage: 1, attempt: 2 });
    expect(name).toBe('btp-r-20260101-abc-s1-a2');
    expect(runIdOfJobName(name)).toBe('r-20260101-abc');
    expect(runIdOfJobName(jobName({ runId: 'r-1', stage: 0, part: 3, attempt: 2 }))).toBe('r-1');
    expect(runIdOfJobName('someone-elses-job')).toBeUndefined();
  });
  it('refuses run ids that cannot name Bedrock resources', () => {
    expect(runIdNameProblem('0f8fad5b-d9cb-469f-a165-70867728950e')).toBeUndefined();
    expect(runIdNameProblem('has_underscore')).toMatch(/only letters, digits and single hyphens/);
    expect(runIdNameProblem('double--hyphen')).toBeDefined();
    expect(runIdNameProblem('x'.repeat(60))).toMatch(/too long/);
  });
});

describe('backoff', () => {
  it('doubles up to the cap, with bounded jitter', () => {
    const opts = { baseSeconds: 30, maxSeconds: 900, random: () => 0 };
    expect([0, 1, 2, 5, 10].map((r) => backoffSeconds(r, opts))).toEqual([30, 60, 120, 900, 900]);
    expect(backoffSeconds(0, { ...opts, random: () => 1, jitter: 0.2 })).toBe(24);
  });
  it('splits long waits into SQS-sized delays', () => {
    expect(sqsDelay(7200)).toEqual({ delaySeconds: 900, final: false });
    expect(sqsDelay(10.2)).toEqual({ delaySeconds: 11, final: true });
  });
});

describe('prices', () => {
  it('records every 2024 figure as unconfirmed, and unknown ones as null', () => {
    for (const p of PRICES) {
      for (const price of [
        p.training,
        p.storage,
        p.throughput.noCommitment,
        p.throughput.oneMonth,
        p.throughput.sixMonths,
      ]) {
        expect(price.confirmed).toBe(false);
        expect(price.asOf).toBe('2024');
        expect(price.source).toMatch(/bedrock-api\.md §11\.3/);
      }
    }
    expect(findPrices('amazon.titan-text-lite-v1:0:4k')!.throughput.noCommitment.usd).toBeNull();
  });
});

describe('cost estimate', () => {
  const provisioning = ProvisioningConfig.parse({ modelUnits: 1, ttlHours: 2 });
  it('is tokens x epochs x price plus storage and throughput hours, with unknown and unconfirmed parts named', () => {
    const e = estimateCost({
      modelId: 'amazon.titan-text-express-v1:0:8k',
      trainingTokens: 1_000_000,
      epochs: 2,
      provisioning,
    });
    expect(e.trainingUsd).toBe(16); // 2,000,000 tokens / 1000 x $0.008
    expect(e.storageUsdPerMonth).toBe(1.95);
    expect(e.throughputUsdPerHour).toBe(20.5);
    expect(e.totalUsd).toBe(16 + 1.95 + 41);
    expect(e.unconfirmed).toEqual(['training', 'storage', 'throughput']);
    const lite = estimateCost({
      modelId: 'amazon.titan-text-lite-v1:0:4k',
      trainingTokens: 1_000_000,
      epochs: 1,
      provisioning,
    });
    expect(lite.unknown).toEqual(['throughput']);
    expect(lite.totalUsd).toBe(0.4 + 1.95);
  });
  it('blocks with a message naming the parts and the unconfirmed prices', () => {
    const e = estimateCost({
      modelId: 'amazon.titan-text-express-v1:0:8k',
      trainingTokens: 1_000_000,
      epochs: 2,
      provisioning,
    });
    expect(budgetProblem(e, 100)).toBeUndefined();
    expect(budgetProblem(e, 10)).toMatch(
      /estimated cost \$58.95 exceeds the budget of \$10: training \$16 \(1000000 tokens x 2 epochs\).*unconfirmed 2024 figures/,
    );
  });
});

describe('metrics files', () => {
  it("reads the documented layout, in the job's own folder", async () => {
    const objects = new MemoryObjects();
    const out = 'runs/r1/stages/0/output/model-customization-job-abcdefabcdef';
    objects.put(
      'b',
      `${out}/training_artifacts/step_wise_training_metrics.csv`,
      'step_number,epoch_number,training_loss,perplexity\n0,0,2.5,12.1\n1,0,1.25,3.4\n',
    );
    objects.put(
      'b',
      `${out}/validation_artifacts/post_fine_tuning_validation/validation_metrics.csv`,
      'step_number,epoch_number,validation_loss,perplexity\n1,0,1.5,4.4\n',
    );
    objects.put(
      'b',
      'runs/r1/stages/0/output/model-customization-job-000000000000/training_artifacts/step_wise_training_metrics.csv',
      'step_number,epoch_number,training_loss\n0,0,9\n',
    );
    const m = await readJobMetrics(
      (k) => objects.getText('b', k),
      'runs/r1/stages/0/output/',
      'arn:aws:bedrock:us-east-1:000000000000:model-customization-job/amazon.titan-text-lite-v1:0:4k/abcdefabcdef',
    );
    expect(m.training?.points).toEqual([
      { step: 0, epoch: 0, loss: 2.5 },
      { step: 1, epoch: 0, loss: 1.25 },
    ]);
    expect(finalLoss(m.training)).toBe(1.25);
    expect(finalLoss(m.validation)).toBe(1.5);
    expect(
      await readJobMetrics(
        (k) => objects.getText('b', k),
        'runs/r1/stages/0/output/',
        'arn:aws:bedrock:us-east-1:000000000000:model-customization-job/x/none',
      ),
    ).toEqual({});
  });
  it('finds the columns by name, with or without perplexity, and names the key and line of a bad file', () => {
    expect(
      parseMetricsCsv('step_number,epoch_number,training_loss\r\n1,0,1.62\r\n2,0,1.34\r\n', 'training', 'k').at(-1),
    ).toEqual({ step: 2, epoch: 0, loss: 1.34 });
    expect(
      parseMetricsCsv('\uFEFFepoch_number,step_number,perplexity,validation_loss\n0,5,2.4,0.9\n', 'validation', 'k'),
    ).toEqual([{ step: 5, epoch: 0, loss: 0.9 }]);
    expect(parseMetricsCsv('step_number,epoch_number,training_loss\n', 'training', 'k')).toEqual([]);
    expect(() => parseMetricsCsv('a,b,loss_x\n1,0,0.9\n', 'training', 'out/m.csv')).toThrow(
      new ArtifactError('out/m.csv line 1: no step_number column in the header "a,b,loss_x"', 'out/m.csv'),
    );
    expect(() =>
      parseMetricsCsv('step_number,epoch_number,training_loss\n1,0,0.9\n2,0,nan?\n', 'training', 'out/m.csv'),
    ).toThrow(/out\/m.csv line 3: training_loss is "nan\?", not a number/);
  });
});
