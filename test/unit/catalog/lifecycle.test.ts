import { BASE_MODELS, findBaseModel, lifecycleOn, TITAN_RECIPE_DATE, type Lifecycle } from '../../../shared/catalog';
import { checkModel, modelChecks, modelProblems } from '../../../shared/orchestration/preflight';
import { resolveRunConfig } from '../../../shared/config/run-config';
import { makeRun, makeWorld, putPrepared, TITAN_2024 } from '../../helpers/orchestration/fakes';
import { submitJob } from '../../../services/submit/submit';

const TITAN_LITE = 'amazon.titan-text-lite-v1:0:4k';
const TODAY = new Date('2026-12-03T12:00:00Z');
const CUSTOM_TITAN = `arn:aws:bedrock:us-east-1:000000000000:custom-model/${TITAN_LITE}/abcdefghij12`;

describe('model lifecycle in the catalog', () => {
  it('gives every base model a lifecycle whose figures each carry a source, and a successor that is catalogued', () => {
    for (const m of BASE_MODELS) {
      const l = m.lifecycle;
      for (const f of [l.availableFrom, l.legacyFrom, l.endOfLife, l.regions]) {
        expect(f.source.url).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
        if (f.value === null || !f.source.confirmed) expect(f.source.note).toBeTruthy();
      }
      expect(l.serving.source.url).toMatch(/^https:\/\//);
      if (l.successor) expect(findBaseModel(l.successor.id)).toBeDefined();
    }
  });

  it('plays a model through its states by date: not yet offered, active, legacy, end of life', () => {
    const l: Lifecycle = {
      ...findBaseModel(TITAN_LITE)!.lifecycle,
      availableFrom: { value: '2024-01-01', source: { ref: 'r', url: 'u', confirmed: true } },
      legacyFrom: { value: '2025-01-01', source: { ref: 'r', url: 'u', confirmed: true } },
      endOfLife: { value: '2025-07-01', source: { ref: 'r', url: 'u', confirmed: true } },
    };
    expect(lifecycleOn(l, '2023-12-31').status).toBe('not-yet-available');
    expect(lifecycleOn(l, '2024-06-01').status).toBe('active');
    expect(lifecycleOn(l, new Date('2025-01-01T00:00:00Z'))).toMatchObject({ status: 'legacy', since: '2025-01-01' });
    expect(lifecycleOn(l, '2025-06-30T23:59:59Z').status).toBe('legacy');
    expect(lifecycleOn(l, '2025-07-01')).toMatchObject({ status: 'end-of-life', since: '2025-07-01' });
  });

  it('has Titan Text G1 at end of life today and active at the 2024 recipe date, when Nova did not exist yet', () => {
    const titan = findBaseModel(TITAN_LITE)!;
    const nova = findBaseModel('amazon.nova-micro-v1:0:128k')!;
    expect(lifecycleOn(titan.lifecycle, TODAY).status).toBe('end-of-life');
    expect(lifecycleOn(titan.lifecycle, TITAN_RECIPE_DATE).status).toBe('active');
    expect(titan.lifecycle.successor?.id).toBe('amazon.nova-micro-v1:0:128k');
    expect(lifecycleOn(nova.lifecycle, TODAY).status).toBe('active');
    expect(lifecycleOn(nova.lifecycle, TITAN_RECIPE_DATE).status).toBe('not-yet-available');
    expect(nova.lifecycle.serving.value).toBe('deployment');
    expect(titan.lifecycle.serving.value).toBe('provisioned-throughput');
  });
});

describe('preflight on the model lifecycle', () => {
  it('refuses an end-of-life base model, naming the date and the successor', () => {
    const { errors } = checkModel(TITAN_LITE, 'FINE_TUNING', TODAY);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /Titan Text G1 - Lite \(amazon\.titan-text-lite-v1:0:4k\) reached end of life on 2025-12-18/,
    );
    expect(errors[0]).toMatch(/use amazon\.nova-micro-v1:0:128k \(Nova Micro\)/);
  });

  it('refuses a custom model whose base model has reached end of life', () => {
    const { errors, model } = checkModel(CUSTOM_TITAN, 'FINE_TUNING', TODAY);
    expect(model?.id).toBe(TITAN_LITE);
    expect(errors[0]).toMatch(new RegExp(`custom model ${CUSTOM_TITAN}: its base model Titan Text G1 - Lite`));
    expect(errors[0]).toMatch(/end of life on 2025-12-18.*Bedrock refuses the custom model/);
  });

  it('warns on a Legacy model and passes an active one', () => {
    const legacy = checkModel('amazon.titan-text-express-v1:0:8k', 'FINE_TUNING', new Date('2025-06-01'));
    expect(legacy.errors).toEqual([]);
    expect(legacy.warnings[0]).toMatch(/is Legacy since 2025-02-11 and reaches end of life on 2025-12-29/);
    expect(checkModel('amazon.nova-micro-v1:0:128k', 'FINE_TUNING', TODAY)).toMatchObject({ errors: [], warnings: [] });
  });

  it('fails continued pre-training on a model that has none on Bedrock, saying where it exists', () => {
    const { errors } = checkModel('amazon.nova-micro-v1:0:128k', 'CONTINUED_PRE_TRAINING', TODAY);
    expect(errors[0]).toMatch(/Nova Micro .* has no CONTINUED_PRE_TRAINING on Bedrock/);
    expect(errors[0]).toMatch(
      /documented only for Titan Text G1 - Lite and Express.*none of which is offered on 2026-12-03/,
    );
  });

  it("checks every stage of a run before any data is read: the 2024 recipe's chain fails today and runs at its date", () => {
    const chain = resolveRunConfig(TITAN_2024, {
      training: { customizationType: 'CONTINUED_PRE_TRAINING' },
      stages: [
        { prep: { template: { kind: 'text' } } },
        { dataset: { key: 'datasets/dolly.jsonl' }, customizationType: 'FINE_TUNING' },
      ],
    });
    expect(modelProblems(chain, TODAY)).toMatch(/^stage 0: Titan Text G1 - Lite .* reached end of life/);
    expect(modelProblems(chain, new Date(TITAN_RECIPE_DATE))).toBeUndefined();
    expect(modelProblems(resolveRunConfig(), TODAY)).toBeUndefined(); // the default: Nova Micro fine-tuning
  });

  it("gives a run's Legacy warnings once, by stage, beside its refusals (what btp run shows before uploading)", () => {
    const express = 'amazon.titan-text-express-v1:0:8k';
    const chain = resolveRunConfig({
      training: { baseModelId: express, customizationType: 'CONTINUED_PRE_TRAINING' },
      stages: [
        { prep: { template: { kind: 'text' } } },
        { dataset: { key: 'datasets/dolly.jsonl' }, customizationType: 'FINE_TUNING' },
      ],
    });
    const legacy = modelChecks(chain, new Date('2025-06-01'));
    expect(legacy.errors).toEqual([]);
    expect(legacy.warnings).toEqual([
      expect.stringMatching(/^stage 0: Titan Text G1 - Express .* is Legacy since 2025-02-11/),
    ]);
    const ended = modelChecks(chain, TODAY);
    expect(ended.errors).toEqual([expect.stringMatching(/^stage 0: .* reached end of life on 2025-12-29/)]);
    expect(modelChecks(resolveRunConfig(), TODAY)).toEqual({ errors: [], warnings: [] });
  });
});

describe('submission on an end-of-life model', () => {
  it('fails the run in seconds, before Bedrock is called, naming the date and the successor', async () => {
    const w = makeWorld(new Date('2026-12-03T00:00:00Z')); // no catalog date: Bedrock as it is today
    const run = makeRun('run-eol', TITAN_2024);
    w.runs.items.set(run.runId, run);
    putPrepared(w.objects, run.runId, { config: TITAN_2024 });
    const manifestKey = `runs/${run.runId}/stages/0/manifest.json`;
    expect(await submitJob(run.runId, { kind: 'prepared', manifestKey, stage: 0 }, w.deps)).toBe('failed');
    const failed = (await w.runs.get(run.runId))!;
    expect(failed.status).toBe('failed');
    expect(failed.failure!.reason).toMatch(/preflight failed: .*reached end of life on 2025-12-18.*amazon\.nova-micro/);
    expect(w.bedrock.calls).toEqual([]);
  });
});
