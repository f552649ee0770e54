/**
 * Prices for the cost estimate: customization is billed as (tokens in the training data x epochs) at a per-1,000-token
 * price, plus a monthly storage fee per custom model, plus Provisioned Throughput per model unit per hour (api §11.3;
 * a custom model's PT price is its base model's, api §11.1).
 *
 * None of the dollar figures below is confirmed. The API notes (api §11.3, §14 item 1) say the 2024 figures "could
 * not be retrieved from any stored source" and list values "commonly quoted for 2024 (from memory, UNVERIFIED)".
 * They are recorded here as exactly that — `confirmed: false` with the confidence the notes give — so an estimate
 * built on them says so. Where the notes recall no figure, `usd` is null: the estimate reports the part as unknown
 * rather than inventing it. Check aws.amazon.com/bedrock/pricing or the Price List API before relying on any of them.
 */
export interface Price {
  /** US dollars per `unit`; null when no figure was found. */
  usd: number | null;
  unit: 'per 1,000 training tokens' | 'per custom model per month' | 'per model unit per hour';
  /** When the figure was (said to be) current. */
  asOf: string;
  source: string;
  confirmed: boolean;
  note?: string;
}

export interface ModelPrices {
  /** The customization base model id, as in shared/catalog/models.ts. */
  modelId: string;
  training: Price;
  storage: Price;
  throughput: { noCommitment: Price; oneMonth: Price; sixMonths: Price };
}

const SOURCE = 'api §11.3 (Bedrock pricing page, 2024 figures quoted from memory in the notes)';
const AS_OF = '2024';

const unverified = (usd: number, unit: Price['unit'], confidence: string): Price => ({
  usd,
  unit,
  asOf: AS_OF,
  source: SOURCE,
  confirmed: false,
  note: `UNVERIFIED: ${confidence} confidence per the notes; check aws.amazon.com/bedrock/pricing`,
});

const missing = (unit: Price['unit'], note: string): Price => ({ usd: null, unit, asOf: AS_OF, source: SOURCE, confirmed: false, note });

export const PRICES: readonly ModelPrices[] = [
  {
    modelId: 'amazon.titan-text-lite-v1:0:4k',
    training: unverified(0.0004, 'per 1,000 training tokens', 'low'),
    storage: unverified(1.95, 'per custom model per month', 'medium'),
    throughput: {
      noCommitment: missing('per model unit per hour', 'the notes: "not recalled reliably"'),
      oneMonth: missing('per model unit per hour', 'the notes: "not recalled reliably"'),
      sixMonths: missing('per model unit per hour', 'the notes: "not recalled reliably"'),
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
];

/** Prices for a base model id, or undefined when the catalog has none (the estimate then lists every part as unknown). */
export function findPrices(modelId: string, prices: readonly ModelPrices[] = PRICES): ModelPrices | undefined {
  return prices.find((p) => p.modelId === modelId);
}
