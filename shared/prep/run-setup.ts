import { createHash } from 'node:crypto';
import { resolveRunConfig, type RunConfig, type RunConfigInput } from '../config/run-config';
import type { S3ObjectRef } from '../messages/pipeline';

/**
 * Profiles: the first folder under `datasets/` names one (`datasets/<profile>/...`), so a team can drop files into a
 * folder without writing a sidecar. Layers, later winning: defaults < profile < sidecar `<key>.run.json` < message.
 */
export const PROFILES: Record<string, RunConfigInput> = {
  /** The seed recipe on databricks-dolly-15k-ja (the defaults). */
  dolly: {},
  /** Data sets that already have prompt and completion fields. */
  pairs: { prep: { template: { kind: 'fields' } } },
  /**
   * Continued pre-training on documents with a `text` field (e.g. a Wikipedia dump). Bedrock documents continued
   * pre-training only for Titan Text G1 - Lite and Express, both at end of life: such a run fails preflight on today's
   * Bedrock and runs on a local stack that plays an earlier catalog date (the 2024 recipe).
   */
  corpus: {
    prep: { template: { kind: 'text' }, filters: { maxChars: 20_000 } },
    training: {
      baseModelId: 'amazon.titan-text-lite-v1:0:4k',
      customizationType: 'CONTINUED_PRE_TRAINING',
      hyperParameters: { epochCount: '1', batchSize: '1', learningRate: '0.00001' },
    },
  },
};

export const DATASETS_PREFIX = 'datasets/';
export const SIDECAR_SUFFIX = '.run.json';

export const profileOf = (key: string): string | undefined => {
  const rest = key.startsWith(DATASETS_PREFIX) ? key.slice(DATASETS_PREFIX.length) : '';
  const slash = rest.indexOf('/');
  return slash > 0 ? rest.slice(0, slash) : undefined;
};

/** Whether an object key can start a run: under datasets/, and not a sidecar configuration. */
export const isDatasetKey = (key: string) =>
  key.startsWith(DATASETS_PREFIX) && !key.endsWith(SIDECAR_SUFFIX) && !key.endsWith('/');

export function resolveLayers(key: string, sidecar: unknown, message: unknown): RunConfig {
  const profile = profileOf(key);
  return resolveRunConfig(profile ? PROFILES[profile] : undefined, sidecar, message);
}

/**
 * The run id: the same object (bucket, key, version or ETag) with the same configuration is the same run, so a
 * repeated notification or message starts nothing new; a new upload or another configuration is a new run.
 */
export function runIdFor(source: S3ObjectRef, config: unknown): string {
  const version = source.versionId ?? stripQuotes(source.etag) ?? '';
  const h = createHash('sha256').update(JSON.stringify([source.bucket, source.key, version, canonical(config)]));
  return `r-${h.digest('hex').slice(0, 20)}`;
}

export const stripQuotes = (etag: string | undefined) => etag?.replace(/^"|"$/g, '');

/** JSON with sorted keys, so two equal configurations hash the same whatever their key order. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
