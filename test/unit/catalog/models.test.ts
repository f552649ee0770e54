import {
  BASE_MODELS,
  checkHyperParameters,
  customizationSpec,
  findBaseModel,
  findByInferenceId,
  tokenLimitFor,
  tokenLimitViolation,
} from '../../../shared/catalog';

const lite = () => findBaseModel('amazon.titan-text-lite-v1:0:4k')!;

describe('the model catalog', () => {
  it('finds a base model by customization id or foundation-model ARN, and not by its on-demand id', () => {
    expect(lite().name).toBe('Titan Text G1 - Lite');
    expect(findBaseModel('arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-express-v1:0:8k')?.name).toBe(
      'Titan Text G1 - Express',
    );
    expect(findBaseModel('amazon.titan-text-lite-v1')).toBeUndefined();
    expect(findByInferenceId('amazon.titan-text-lite-v1')?.id).toBe('amazon.titan-text-lite-v1:0:4k');
  });

  it('lists every model the pipeline may target, each with a source for every figure', () => {
    expect(BASE_MODELS.map((m) => m.id)).toEqual(
      expect.arrayContaining([
        'amazon.titan-text-lite-v1:0:4k',
        'amazon.titan-text-express-v1:0:8k',
        'cohere.command-text-v14:7:4k',
        'cohere.command-light-text-v14:7:4k',
        'meta.llama2-13b-v1:0:4k',
        'meta.llama2-70b-v1:0:4k',
        'meta.llama3-1-8b-instruct-v1:0:128k',
        'meta.llama3-1-70b-instruct-v1:0:128k',
        'amazon.nova-micro-v1:0:128k',
        'amazon.nova-lite-v1:0:300k',
        'amazon.nova-pro-v1:0:300k',
        'anthropic.claude-3-haiku-20240307-v1:0:200k',
      ]),
    );
    for (const model of BASE_MODELS) {
      for (const spec of model.customizations) {
        for (const h of spec.hyperParameters) expect(h.source.ref).toMatch(/bedrock-api\.md §8/);
        for (const row of spec.tokenLimits) expect(row.source.ref).toMatch(/bedrock-api\.md §7\.2/);
        for (const f of [...Object.values(spec.records), ...Object.values(spec.fileSize)]) {
          expect(f.source.ref.length).toBeGreaterThan(0);
          // An unknown figure must say why it is unknown.
          if (f.value === null) expect(f.source.note).toBeTruthy();
        }
      }
    }
  });

  it('keeps the Titan record quotas unknown rather than inventing them', () => {
    const ft = customizationSpec(lite(), 'FINE_TUNING')!;
    expect(ft.records.maxTraining.value).toBeNull();
    expect(ft.records.maxTraining.source.confirmed).toBe(false);
    expect(ft.fileSize.maxTrainingBytes.value).toBe(1024 ** 3);
    expect(customizationSpec(lite(), 'CONTINUED_PRE_TRAINING')!.fileSize.maxTrainingBytes.value).toBe(10 * 1024 ** 3);
  });

  it('knows which customization types each model supports and in which data format', () => {
    expect(customizationSpec(lite(), 'CONTINUED_PRE_TRAINING')?.dataFormat).toBe('input');
    expect(customizationSpec(findBaseModel('cohere.command-text-v14:7:4k')!, 'CONTINUED_PRE_TRAINING')).toBeUndefined();
    expect(customizationSpec(findBaseModel('amazon.nova-pro-v1:0:300k')!, 'FINE_TUNING')?.dataFormat).toBe(
      'bedrock-conversation-2024',
    );
    expect(
      customizationSpec(findBaseModel('anthropic.claude-3-haiku-20240307-v1:0:200k')!, 'FINE_TUNING')?.dataFormat,
    ).toBe('claude-messages');
  });
});

describe('tokenLimitFor: the Titan batch-size trap (docs/bedrock-api.md §8.1)', () => {
  it.each([
    [1, 4096],
    [2, 4096],
    [3, 2048],
    [6, 2048],
  ])('Titan Lite at batchSize %i allows %i tokens per record', (batch, max) => {
    const limit = tokenLimitFor(lite(), 'FINE_TUNING', batch);
    expect(limit.defined && limit.row.maxTokens).toBe(max);
  });

  it('has no limit above 6 for Lite (above 4 for Express), and says the job fails in training', () => {
    const limit = tokenLimitFor(lite(), 'FINE_TUNING', 7);
    expect(limit).toMatchObject({ defined: false, outcome: 'job-fails-during-training' });
    expect(!limit.defined && limit.reason).toContain('batch sizes 1-2, 3-6');
    expect(tokenLimitFor(findBaseModel('amazon.titan-text-express-v1:0:8k')!, 'FINE_TUNING', 5).defined).toBe(false);
  });

  it('uses the default batch size when none is given, and the always-row for models without batchSize', () => {
    const limit = tokenLimitFor(lite(), 'FINE_TUNING');
    expect(limit.defined && limit.row.maxTokens).toBe(4096);
    const nova = tokenLimitFor(findBaseModel('amazon.nova-lite-v1:0:300k')!, 'FINE_TUNING');
    expect(nova.defined && nova.row.maxTokens).toBe(32_000);
  });

  it('explains an unsupported type and an unpublished limit', () => {
    expect(tokenLimitFor(findBaseModel('meta.llama2-13b-v1:0:4k')!, 'CONTINUED_PRE_TRAINING')).toMatchObject({
      defined: false,
    });
    const llama2 = tokenLimitFor(findBaseModel('meta.llama2-13b-v1:0:4k')!, 'FINE_TUNING', 1);
    expect(!llama2.defined && llama2.reason).toContain('no per-record token limit is published');
  });
});

describe("tokenLimitViolation gives Bedrock's failure texts (docs/bedrock-api.md §6.4)", () => {
  const cohere = tokenLimitFor(findBaseModel('cohere.command-text-v14:7:4k')!, 'FINE_TUNING', 8);
  const titan = tokenLimitFor(lite(), 'FINE_TUNING', 1);

  it('reports the sum for Titan and each side for Cohere', () => {
    if (!titan.defined || !cohere.defined) throw new Error('limits expected');
    expect(tokenLimitViolation(titan.row, 3000, 1096)).toBeUndefined();
    expect(tokenLimitViolation(titan.row, 3000, 1097)).toBe(
      'Max sum of input and output token length 4097 exceeds total limit of 4096',
    );
    expect(tokenLimitViolation(titan.row, 4097, 0)).toBe('Maximum input token count 4097 exceeds limit of 4096');
    expect(tokenLimitViolation(cohere.row, 4097, 1)).toBe('Maximum input token count 4097 exceeds limit of 4096');
    expect(tokenLimitViolation(cohere.row, 10, 2049)).toBe('Maximum output token count 2049 exceeds limit of 2048');
  });
});

describe('checkHyperParameters', () => {
  const ft = () => customizationSpec(lite(), 'FINE_TUNING')!;

  it('fills in the documented defaults', () => {
    expect(checkHyperParameters(ft(), {})).toEqual({
      ok: true,
      values: { epochCount: 5, batchSize: 1, learningRate: 0.00001, learningRateWarmupSteps: 5 },
    });
  });

  it('accepts strings in range, including exponent floats', () => {
    expect(checkHyperParameters(ft(), { epochCount: '2', learningRate: '1e-5', batchSize: '64' })).toMatchObject({
      ok: true,
      values: { epochCount: 2, batchSize: 64 },
    });
  });

  it('rejects unknown names, wrong types and values out of range, each with a message', () => {
    const result = checkHyperParameters(ft(), {
      epochs: '2',
      epochCount: '2.5',
      batchSize: '65',
      learningRate: 'fast',
    });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors).toEqual([
      'Unknown hyperparameter epochs; supported: epochCount, batchSize, learningRate, learningRateWarmupSteps',
      'Hyperparameter epochCount must be an integer, got "2.5"',
      'Hyperparameter batchSize value 65 is out of range; it must be between 1 and 64',
      'Hyperparameter learningRate must be a number, got "fast"',
    ]);
  });
});
