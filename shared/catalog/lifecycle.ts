/**
 * Where each base model stands in Bedrock's model lifecycle: Active, Legacy or End-of-Life (EOL), with the dates,
 * regions, successor and how its custom models are served, each with its source. After a base model's EOL date its
 * requests fail, and "if you customized a model, you can continue to use it until the EOL date of the base model
 * version that you used for customization" (https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html).
 * A date no AWS page here confirms is `confirmed: false` with a note saying where it comes from; docs/bedrock-api.md
 * §15 lists them. Dates are calendar days (UTC), `YYYY-MM-DD`.
 */
import type { Figure, Source } from './models';

export const LIFECYCLE_SOURCES = {
  lifecycle: 'https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html',
  onDemandDeployment: 'https://docs.aws.amazon.com/bedrock/latest/userguide/deploy-custom-model-on-demand.html',
  novaOnDemand: 'https://docs.aws.amazon.com/nova/latest/userguide/custom-fine-tune-odi.html',
  /** The table "Supported models and Regions for fine-tuning" (model ids and their single-region support). */
  customizationRegions:
    'https://docs.aws.amazon.com/bedrock/latest/userguide/custom-model-fine-tuning.html#custom-model-supported',
} as const;

export type LifecycleStatus = 'active' | 'legacy' | 'end-of-life';

/** How custom models of the base are served: a deployment (on demand, per token) or Provisioned Throughput. */
export type CustomModelServing = 'deployment' | 'provisioned-throughput';

export interface Lifecycle {
  /** The first day customization of the model was offered on Bedrock; before it, the id is not a base model. */
  availableFrom: Figure<string>;
  /** The day it became Legacy; null while it is not (or no date is known). */
  legacyFrom: Figure<string>;
  /** The EOL day: from it, requests to the model and to custom models of it fail. null while none is set. */
  endOfLife: Figure<string>;
  /** The catalogued base model to move to, when this one is Legacy or EOL. */
  successor?: { id: string; source: Source };
  /** Regions where customization of the model is offered. */
  regions: Figure<string[]>;
  /** How custom models of it are served (docs/bedrock-api.md §11.4). */
  serving: { value: CustomModelServing; source: Source };
}

export interface LifecycleState {
  status: LifecycleStatus | 'not-yet-available';
  /** The date the status began, when known. */
  since?: string;
  lifecycle: Lifecycle;
}

const REF = 'docs/bedrock-api.md §15';
const day = (value: string, url: string, confirmed: boolean, note?: string): Figure<string> => ({
  value,
  source: note === undefined ? { ref: REF, url, confirmed } : { ref: REF, url, confirmed, note },
});
const none = (note: string, url: string = LIFECYCLE_SOURCES.lifecycle): Figure<string> => ({
  value: null,
  source: { ref: REF, url, confirmed: false, note },
});

const ptServing = (note?: string): Lifecycle['serving'] => ({
  value: 'provisioned-throughput',
  source: {
    ref: 'docs/bedrock-api.md §11.1',
    url: 'https://docs.aws.amazon.com/bedrock/latest/userguide/prov-throughput.html',
    confirmed: true,
    ...(note ? { note } : {}),
  },
});

/** Nova Micro, Lite and Pro: custom models trained after 2025-07-16 can be deployed for on-demand inference. */
const novaServing: Lifecycle['serving'] = {
  value: 'deployment',
  source: {
    ref: 'docs/bedrock-api.md §11.4',
    url: LIFECYCLE_SOURCES.onDemandDeployment,
    confirmed: true,
    note: 'for custom models trained on or after 2025-07-16, in US East (N. Virginia) and US West (Oregon)',
  },
};

/**
 * An active Nova model fine-tuned in us-east-1 only (the fine-tuning table): `announced` is the day the family was
 * announced, not a confirmed day its fine-tuning opened on Bedrock.
 */
const activeNova = (family: string, announced: string, models: string, serving: Lifecycle['serving']): Lifecycle => ({
  availableFrom: day(
    announced,
    LIFECYCLE_SOURCES.lifecycle,
    false,
    `${family} was announced on ${announced}; the day its fine-tuning opened on Bedrock was not confirmed`,
  ),
  legacyFrom: none('Active: no Legacy date is published'),
  endOfLife: none('Active: no EOL date is published'),
  regions: {
    value: ['us-east-1'],
    source: {
      ref: REF,
      url: LIFECYCLE_SOURCES.customizationRegions,
      confirmed: true,
      note: `the fine-tuning table lists ${models} with single-region support in us-east-1`,
    },
  },
  serving,
});

const novaLifecycle = activeNova('Nova', '2024-12-03', 'Nova Micro, Lite and Pro', novaServing);

/**
 * Nova 2 Lite. The on-demand deployment page lists Nova Micro, Lite and Pro only, so its custom models are served by
 * Provisioned Throughput here until a page says otherwise.
 */
const nova2LiteLifecycle = activeNova(
  'Nova 2',
  '2025-12-02',
  'Nova 2 Lite',
  ptServing('the on-demand deployment page lists Nova Micro, Lite and Pro as its supported base models'),
);

const titanLifecycle = (
  eol: string,
  eolNote: string,
  successor: string,
  legacy: Figure<string> = none('the day it became Legacy was not confirmed'),
): Lifecycle => ({
  availableFrom: day(
    '2023-11-29',
    LIFECYCLE_SOURCES.lifecycle,
    false,
    'Titan Text G1 customization was announced on 2023-11-29 (preview); the exact day was not confirmed',
  ),
  legacyFrom: legacy,
  endOfLife: day(eol, LIFECYCLE_SOURCES.lifecycle, false, eolNote),
  successor: {
    id: successor,
    source: {
      ref: REF,
      url: LIFECYCLE_SOURCES.lifecycle,
      confirmed: false,
      note: "the project's choice: the current Amazon text model of similar size that fine-tunes on Bedrock",
    },
  },
  regions: {
    value: ['us-east-1', 'us-west-2'],
    source: {
      ref: REF,
      url: LIFECYCLE_SOURCES.customizationRegions,
      confirmed: false,
      note: 'as of 2024; the fine-tuning table no longer lists Titan Text G1 (end of life)',
    },
  },
  serving: ptServing(),
});

/** A model whose lifecycle no page here confirms: taken as active, and preflight says the figures are missing. */
const unknownLifecycle = (note: string): Lifecycle => ({
  availableFrom: none(note),
  legacyFrom: none(note),
  endOfLife: none(note),
  regions: { value: null, source: { ref: REF, url: LIFECYCLE_SOURCES.customizationRegions, confirmed: false, note } },
  serving: ptServing(),
});

const NOT_CHECKED = 'lifecycle not checked against the model lifecycle page';

/** By customization id (shared/catalog/models.ts). */
export const LIFECYCLES: Readonly<Record<string, Lifecycle>> = {
  'amazon.titan-text-lite-v1:0:4k': titanLifecycle(
    '2025-12-18',
    'a latest date, not the published one: public projects removed the model as end of life by then (weaviate/weaviate ' +
      'PR #10053, 2025-12-18); the EOL table of the lifecycle page was not read',
    'amazon.nova-micro-v1:0:128k',
  ),
  'amazon.titan-text-express-v1:0:8k': titanLifecycle(
    '2025-12-29',
    'a latest date, not the published one: the model was Legacy with an EOL notice for August 2025 by 2025-02-11 ' +
      '(langchain4j/langchain4j PR #2532) and removed as EOL by 2025-12-29 (newrelic/newrelic-dotnet-agent PR #3373)',
    'amazon.nova-lite-v1:0:300k',
    day(
      '2025-02-11',
      LIFECYCLE_SOURCES.lifecycle,
      false,
      'a latest date: Legacy by then (langchain4j/langchain4j PR #2532); the day it became Legacy was not confirmed',
    ),
  ),
  'cohere.command-text-v14:7:4k': unknownLifecycle(NOT_CHECKED),
  'cohere.command-light-text-v14:7:4k': unknownLifecycle(NOT_CHECKED),
  'meta.llama2-13b-v1:0:4k': unknownLifecycle(NOT_CHECKED),
  'meta.llama2-70b-v1:0:4k': unknownLifecycle(NOT_CHECKED),
  'meta.llama3-1-8b-instruct-v1:0:128k': unknownLifecycle(NOT_CHECKED),
  'meta.llama3-1-70b-instruct-v1:0:128k': unknownLifecycle(NOT_CHECKED),
  'amazon.nova-micro-v1:0:128k': novaLifecycle,
  'amazon.nova-lite-v1:0:300k': novaLifecycle,
  'amazon.nova-pro-v1:0:300k': novaLifecycle,
  'amazon.nova-2-lite-v1:0:256k': nova2LiteLifecycle,
  'anthropic.claude-3-haiku-20240307-v1:0:200k': unknownLifecycle(NOT_CHECKED),
};

/** A catalog date: the `YYYY-MM-DD` of a Date or of an ISO string, or undefined when it is not one. */
export function catalogDay(at: Date | string): string | undefined {
  const d = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(d.getTime())) return undefined;
  return d.toISOString().slice(0, 10);
}

/** Where a model stands on a day. Unknown dates count as not reached: a model with none is active. */
export function lifecycleOn(lifecycle: Lifecycle, at: Date | string): LifecycleState {
  const today = catalogDay(at);
  if (today === undefined) throw new Error(`not a date: ${String(at)}`);
  const { availableFrom, legacyFrom, endOfLife } = lifecycle;
  if (availableFrom.value !== null && today < availableFrom.value) return { status: 'not-yet-available', lifecycle };
  if (endOfLife.value !== null && today >= endOfLife.value)
    return { status: 'end-of-life', since: endOfLife.value, lifecycle };
  if (legacyFrom.value !== null && today >= legacyFrom.value)
    return { status: 'legacy', since: legacyFrom.value, lifecycle };
  return { status: 'active', lifecycle };
}

/** The lifecycle of a customization id; every catalogued model has one (a unit test holds the two lists together). */
export function lifecycleOf(modelId: string): Lifecycle | undefined {
  return LIFECYCLES[modelId];
}

/** Whether any lifecycle figure of the model is confirmed; preflight warns when none is. */
export const lifecycleChecked = (l: Lifecycle): boolean =>
  [l.availableFrom, l.legacyFrom, l.endOfLife].some((f) => f.value !== null);

/**
 * The catalog date a deployment is configured with: `BTP_CATALOG_DATE` (the local stack's setting that plays an
 * earlier Bedrock, e.g. the 2024 Titan recipe), or undefined for today. Read by the composition roots only.
 */
export function catalogDateSetting(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.BTP_CATALOG_DATE;
  if (raw === undefined || raw === '') return undefined;
  const day = catalogDay(raw);
  if (!day) throw new Error(`Environment variable BTP_CATALOG_DATE must be a date (YYYY-MM-DD), got "${raw}"`);
  return day;
}

/** The catalog date the 2024 Titan recipe was written at: Titan Text G1 - Lite was active and Nova did not exist. */
export const TITAN_RECIPE_DATE = '2024-02-01';
