/**
 * A deterministic, plausible loss curve for an emulated job. Nothing is trained: the numbers are a function of the
 * dataset size, epochs, batch size and learning rate only, so the same job gives the same curve on every run, and
 * the monitor and evaluation code downstream see the shapes they will see from Bedrock.
 *
 * The model, and why:
 * - Training loss decays exponentially per epoch from about 2.4 toward a floor. A larger dataset has a higher
 *   floor (it is harder to memorize); this is the usual shape of fine-tuning curves for Titan-sized models.
 * - The decay rate grows with the square root of the learning rate relative to Titan's default 1e-5. A rate over
 *   100x that (1e-3) diverges instead: the loss drifts up, which is what such jobs show.
 * - Validation loss follows with a gap that shrinks with data size, and rises again after three epochs
 *   (over-fitting), faster at higher learning rates.
 * - Noise comes from a PRNG seeded by the inputs, shrinking as training settles.
 */
export interface CurveInput {
  records: number;
  tokens: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  validators: number;
}

export interface Curve {
  steps: Array<{ step: number; epoch: number; loss: number }>;
  validation: Array<{ step: number; epoch: number; loss: number }>;
  trainingLoss: number;
  validationLosses: number[];
}

export function lossCurve(input: CurveInput): Curve {
  const random = mulberry32(
    hash(`${input.records}/${input.tokens}/${input.epochs}/${input.batchSize}/${input.learningRate}`),
  );
  const stepsPerEpoch = Math.max(1, Math.ceil(input.records / Math.max(1, input.batchSize)));
  const rate = input.learningRate / 1e-5;
  const diverges = rate > 100;
  const k = 2.5 * Math.min(4, Math.max(0.1, Math.sqrt(rate)));
  const start = 2.4 + 0.2 * random();
  const floor = Math.min(1.2, 0.25 + 0.35 * Math.log10(1 + input.records / 100));
  const trainAt = (epochs: number) =>
    diverges ? start + 0.3 * Math.log1p(epochs) : floor + (start - floor) * Math.exp(-k * epochs);

  const steps: Curve['steps'] = [];
  for (let step = 0; step < stepsPerEpoch * input.epochs; step++) {
    const progress = (step + 1) / stepsPerEpoch;
    const mean = trainAt(progress);
    const noise = (random() - 0.5) * 0.08 * (0.3 + (mean - floor));
    steps.push({ step, epoch: Math.floor(step / stepsPerEpoch), loss: round(Math.max(0.01, mean + noise)) });
  }

  const gap = 0.15 + 0.3 / Math.sqrt(input.records / 100 + 1);
  const validationAt = (epochs: number) =>
    diverges
      ? trainAt(epochs) + gap
      : floor + gap + (start - floor - gap) * Math.exp(-k * epochs) + 0.04 * Math.max(0, epochs - 3) * Math.sqrt(rate);
  const validation: Curve['validation'] = [];
  if (input.validators > 0) {
    for (let epoch = 0; epoch < input.epochs; epoch++) {
      validation.push({
        step: (epoch + 1) * stepsPerEpoch - 1,
        epoch,
        loss: round(validationAt(epoch + 1) + (random() - 0.5) * 0.02),
      });
    }
  }
  const last = validation.at(-1)?.loss ?? 0;
  return {
    steps,
    validation,
    trainingLoss: steps.at(-1)?.loss ?? round(start),
    // One entry per validator, as GetModelCustomizationJob returns them (docs/bedrock-api.md §6.3).
    // https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetModelCustomizationJob.html
    validationLosses: Array.from({ length: input.validators }, (_, i) => round(last + i * 0.003)),
  };
}

/**
 * `step_wise_training_metrics.csv` with the documented columns (docs/bedrock-api.md §9).
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-analyze.html
 */
export function trainingCsv(curve: Curve): string {
  const lines = ['step_number,epoch_number,training_loss,perplexity'];
  for (const s of curve.steps) lines.push(`${s.step},${s.epoch},${s.loss},${round(Math.exp(s.loss))}`);
  return `${lines.join('\n')}\n`;
}

/**
 * `validation_metrics.csv` with the documented columns (docs/bedrock-api.md §9).
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-analyze.html
 */
export function validationCsv(curve: Curve): string {
  const lines = ['step_number,epoch_number,validation_loss,perplexity'];
  for (const s of curve.validation) lines.push(`${s.step},${s.epoch},${s.loss},${round(Math.exp(s.loss))}`);
  return `${lines.join('\n')}\n`;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
