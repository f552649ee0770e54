/**
 * Prices for the cost estimate: customization is billed as (tokens in the training data x epochs) at a per-1,000-token
 * price, plus a monthly storage fee per custom model, plus Provisioned Throughput per model unit per hour
 * (docs/bedrock-api.md §11.3;
 * a custom model's PT price is its base model's, docs/bedrock-api.md §11.1).
 *
 * None of the dollar figures below is confirmed against the pricing page (https://aws.amazon.com/bedrock/pricing/):
 * they are values commonly quoted for 2024 (docs/bedrock-api.md §11.3, §14 item 1), recorded as exactly that —
 * `confirmed: false`
 * with the confidence given for each — so an estimate built on them says so. Where no figure is known, `usd` is null:
 * the estimate reports the part as unknown rather than inventing it. Check the pricing page or the AWS Price List API
 * before relying on any of them.
 */
export interface Price {
  /** US dollars per `unit`; null when no figure was found. */
  usd: number | null;
  unit:
    | 'per 1,000 training tokens'
    | 'per custom model per month'
    | 'per model unit per hour'
    | 'per 1,000 input tokens'
    | 'per 1,000 output tokens';
  /** When the figure was (said to be) current. */
  asOf: string;
  /** The section of docs/bedrock-api.md that describes the figure. */
  source: string;
  /** The public page the figure should be checked against. */
  url: string;
  confirmed: boolean;
  note?: string;
}

export interface ModelPrices {
  /** The customization base model id, as in shared/catalog/models.ts. */
  modelId: string;
  training: Price;
  storage: Price;
  throughput: { noCommitment: Price; oneMonth: Price; sixMonths: Price };
  /** On-demand inference through a custom model deployment, billed per token (docs/bedrock-api.md §11.4). */
  onDemand?: { input: Price; output: Price };
}

const SOURCE = 'docs/bedrock-api.md §11.3 (2024 figures, commonly quoted, not confirmed)';
const URL = 'https://aws.amazon.com/bedrock/pricing/';
const AS_OF = '2024';

const unverified = (usd: number, unit: Price['unit'], confidence: string): Price => ({
  usd,
  unit,
  asOf: AS_OF,
  source: SOURCE,
  url: URL,
  confirmed: false,
  note: `UNVERIFIED: ${confidence} confidence; check ${URL}`,
});

const missing = (unit: Price['unit'], note: string): Price => ({
  usd: null,
  unit,
  asOf: AS_OF,
  source: SOURCE,
  url: URL,
  confirmed: false,
  note,
});

const NOVA_NOTE =
  "UNVERIFIED: the base model's on-demand prices as commonly quoted since its launch; that a deployed custom model " +
  `bills the same per token is not confirmed; check ${URL}`;
const novaOnDemand = (input: number, output: number): ModelPrices['onDemand'] => ({
  input: { ...unverified(input, 'per 1,000 input tokens', 'medium'), asOf: '2024-12', note: NOVA_NOTE },
  output: { ...unverified(output, 'per 1,000 output tokens', 'medium'), asOf: '2024-12', note: NOVA_NOTE },
});
const noThroughputFigures = {
  noCommitment: missing('per model unit per hour', 'no figure known'),
  oneMonth: missing('per model unit per hour', 'no figure known'),
  sixMonths: missing('per model unit per hour', 'no figure known'),
};

export const PRICES: readonly ModelPrices[] = [
  {
    modelId: 'amazon.nova-micro-v1:0:128k',
    training: missing('per 1,000 training tokens', 'no figure known'),
    storage: missing('per custom model per month', 'no figure known'),
    throughput: noThroughputFigures,
    onDemand: novaOnDemand(0.000035, 0.00014),
  },
  {
    modelId: 'amazon.nova-lite-v1:0:300k',
    training: missing('per 1,000 training tokens', 'no figure known'),
    storage: missing('per custom model per month', 'no figure known'),
    throughput: noThroughputFigures,
    onDemand: novaOnDemand(0.00006, 0.00024),
  },
  {
    modelId: 'amazon.titan-text-lite-v1:0:4k',
    training: unverified(0.0004, 'per 1,000 training tokens', 'low'),
    storage: unverified(1.95, 'per custom model per month', 'medium'),
    throughput: {
      noCommitment: missing('per model unit per hour', 'no figure known'),
      oneMonth: missing('per model unit per hour', 'no figure known'),
      sixMonths: missing('per model unit per hour', 'no figure known'),
    },
  },
  {
    modelId: 'amazon.titan-text-express-v1:0:8k',
    training: unverified(0.008, 'per 1,000 training tokens', 'low-medium'),
    storage: unverified(1.95, 'per custom model per month', 'medium'),
    throughput: {
      noCommitment: unverified(20.5, 'per model unit per hour', 'low-medium'),
      oneMonth: unverified(18.4, 'per model unit per hour', 'low-medium'),
      sixMonths: unverified(14.8, 'per model unit per hour', 'low-medium'),
    },
  },
  {
    // On demand only: the judge model (config `evaluation.judge`) is the one use priced here.
    modelId: 'anthropic.claude-3-haiku-20240307-v1:0:200k',
    training: missing('per 1,000 training tokens', 'no figure known'),
    storage: missing('per custom model per month', 'no figure known'),
    throughput: noThroughputFigures,
    onDemand: {
      input: unverified(0.00025, 'per 1,000 input tokens', 'medium'),
      output: unverified(0.00125, 'per 1,000 output tokens', 'medium'),
    },
  },
];

/**
 * Prices for a base model id, or undefined when the catalog has none (the estimate then lists every part as unknown).
 */
export function findPrices(modelId: string, prices: readonly ModelPrices[] = PRICES): ModelPrices | undefined {
  return prices.find((p) => p.modelId === modelId);
}
