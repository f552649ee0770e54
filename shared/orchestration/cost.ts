import * as z from 'zod';
import { findPrices, type ModelPrices, type Price } from '../catalog/prices';
import type { ProvisioningConfig } from '../config/run-config';

/** Hours a commitment term is billed for (a month taken as 730 hours, the usual billing convention). */
const COMMITMENT_HOURS = { OneMonth: 730, SixMonths: 6 * 730 } as const;

export const CostEstimate = z.object({
  currency: z.literal('USD'),
  modelId: z.string(),
  trainingTokens: z.number(),
  epochs: z.number(),
  /** tokens x epochs / 1000 x price (docs/bedrock-api.md §11.3); null when no price is known. */
  trainingUsd: z.number().nullable(),
  storageUsdPerMonth: z.number().nullable(),
  throughputUsdPerHour: z.number().nullable(),
  /** Hours of throughput the run will pay for: its time to live, or the commitment term. */
  throughputHours: z.number(),
  /** What serves the model; a deployment has no hourly bill, only the per-token prices below. */
  serving: z.enum(['deployment', 'provisioned-throughput']).optional(),
  /** On-demand prices of a deployment, per 1,000 tokens (null where unknown); not in the total, which has no usage. */
  inferenceUsdPer1kTokens: z.object({ input: z.number().nullable(), output: z.number().nullable() }).optional(),
  /** Training + one month of storage + the throughput hours, over the parts whose price is known. */
  totalUsd: z.number(),
  /** Parts left out of the total because no price is known. */
  unknown: z.array(z.string()),
  /** Parts whose price is not confirmed (every 2024 figure in shared/catalog/prices.ts). */
  unconfirmed: z.array(z.string()),
});
export type CostEstimate = z.infer<typeof CostEstimate>;

export function estimateCost(args: {
  modelId: string;
  trainingTokens: number;
  epochs: number;
  provisioning: ProvisioningConfig;
  prices?: ModelPrices | undefined;
  /** What will serve the model (serving.ts servingFor); absent: Provisioned Throughput. */
  serving?: 'deployment' | 'provisioned-throughput';
}): CostEstimate {
  const prices = args.prices ?? findPrices(args.modelId);
  const unknown: string[] = [];
  const unconfirmed: string[] = [];
  const use = (label: string, price: Price | undefined): number | null => {
    if (!price || price.usd === null) {
      unknown.push(label);
      return null;
    }
    if (!price.confirmed) unconfirmed.push(label);
    return price.usd;
  };
  const trainPrice = use('training', prices?.training);
  const trainingUsd = trainPrice === null ? null : round((args.trainingTokens * args.epochs * trainPrice) / 1000);
  const storageUsdPerMonth = use('storage', prices?.storage);
  const p = args.provisioning;
  let throughputUsdPerHour: number | null = null;
  let throughputHours = 0;
  const deployed = p.enabled && args.serving === 'deployment';
  let inferenceUsdPer1kTokens: CostEstimate['inferenceUsdPer1kTokens'];
  if (deployed) {
    inferenceUsdPer1kTokens = {
      input: use('inference input tokens', prices?.onDemand?.input),
      output: use('inference output tokens', prices?.onDemand?.output),
    };
  } else if (p.enabled) {
    const term = p.commitmentDuration;
    const price =
      term === 'OneMonth'
        ? prices?.throughput.oneMonth
        : term === 'SixMonths'
          ? prices?.throughput.sixMonths
          : prices?.throughput.noCommitment;
    const perUnit = use('throughput', price);
    throughputUsdPerHour = perUnit === null ? null : round(perUnit * p.modelUnits);
    throughputHours = term ? COMMITMENT_HOURS[term] : p.ttlHours;
  }
  const totalUsd = round(
    (trainingUsd ?? 0) + (storageUsdPerMonth ?? 0) + (throughputUsdPerHour ?? 0) * throughputHours,
  );
  return {
    currency: 'USD',
    modelId: args.modelId,
    trainingTokens: args.trainingTokens,
    epochs: args.epochs,
    trainingUsd,
    storageUsdPerMonth,
    throughputUsdPerHour,
    throughputHours,
    ...(args.serving ? { serving: args.serving } : {}),
    ...(inferenceUsdPer1kTokens ? { inferenceUsdPer1kTokens } : {}),
    totalUsd,
    unknown,
    unconfirmed,
  };
}

/** Why the estimate blocks submission, or undefined when it fits the budget (or there is none). */
export function budgetProblem(estimate: CostEstimate, budgetUsd: number | undefined): string | undefined {
  if (budgetUsd === undefined || estimate.totalUsd <= budgetUsd) return undefined;
  const parts = [
    `training $${estimate.trainingUsd ?? '?'} (${estimate.trainingTokens} tokens x ${estimate.epochs} epochs)`,
    `storage $${estimate.storageUsdPerMonth ?? '?'}/month`,
    estimate.serving === 'deployment'
      ? `on-demand inference $${estimate.inferenceUsdPer1kTokens?.input ?? '?'} / $${estimate.inferenceUsdPer1kTokens?.output ?? '?'} per 1,000 input / output tokens (not in the total)`
      : `throughput $${estimate.throughputUsdPerHour ?? '?'}/hour x ${estimate.throughputHours} h`,
  ];
  let message = `estimated cost $${estimate.totalUsd} exceeds the budget of $${budgetUsd}: ${parts.join(', ')}`;
  if (estimate.unconfirmed.length)
    message += `; prices for ${estimate.unconfirmed.join(', ')} are unconfirmed 2024 figures`;
  if (estimate.unknown.length) message += `; no price known for ${estimate.unknown.join(', ')} (not counted)`;
  return `${message}. Raise training.budgetUsd, reduce epochs or data, or shorten provisioning.ttlHours.`;
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
