import { createHash } from 'node:crypto';
import { estimateTokens } from '../../../shared/catalog/tokens';
import type { RunConfig } from '../../../shared/config/run-config';
import {
  SplitManifest,
  writeJsonArtifact,
  type PreparedFile,
  type SetName,
  type WrittenFile,
} from '../../../shared/artifacts';
import { summarize } from '../../../shared/prep/stats';

/**
 * Prepared sets and their manifest.json as split leaves them, for the steps after it (submit, evaluate), when a test
 * wants records of its own choosing rather than what the split of some input gives: the manifest is built as split
 * builds it and written through the same schema check (writeJsonArtifact), so a shape split never writes fails here.
 */
export function preparedSets(
  runId: string,
  config: RunConfig,
  sets: Partial<Record<SetName, unknown[]>>,
): Array<{ key: string; body: string }> {
  const base = `runs/${runId}/stages/0/`;
  const objects: Array<{ key: string; body: string }> = [];
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const tokensOf = (r: unknown) => {
    const o = r as Record<string, unknown>;
    return estimateTokens(text(o.prompt)) + estimateTokens(text(o.completion)) + estimateTokens(text(o.input));
  };
  const file = (key: string, rows: unknown[]): WrittenFile => {
    const body = rows.map((r) => `${JSON.stringify(r)}\n`).join('');
    objects.push({ key, body });
    return {
      key,
      records: rows.length,
      bytes: Buffer.byteLength(body),
      sha256: createHash('sha256').update(body).digest('hex'),
    };
  };
  const prepared = {} as Record<SetName, PreparedFile>;
  const lengths = {} as SplitManifest['lengths'];
  const chars = (r: unknown) =>
    [
      ...Object.values(r as Record<string, unknown>)
        .map(text)
        .join(''),
    ].length;
  for (const set of ['train', 'validation', 'test'] as const) {
    const rows = sets[set] ?? [];
    const tokens = rows.map(tokensOf);
    prepared[set] = {
      ...file(`${base}prepared/${set}.jsonl`, rows),
      tokens: tokens.reduce((s, n) => s + n, 0),
      maxRecordTokens: Math.max(0, ...tokens),
    };
    lengths[set] = { chars: summarize(rows.map(chars)), tokens: summarize(tokens) };
  }
  const sizes = { train: prepared.train.records, validation: prepared.validation.records, test: prepared.test.records };
  const total = sizes.train + sizes.validation + sizes.test;
  const manifestKey = `${base}manifest.json`;
  const manifest: SplitManifest = {
    schemaVersion: 1,
    kind: 'split',
    runId,
    source: { bucket: 'datasets', key: `datasets/${runId}.jsonl` },
    config,
    seed: config.split.seed,
    input: {
      format: 'jsonl',
      compression: 'none',
      encoding: 'utf-8',
      bytes: prepared.train.bytes + prepared.validation.bytes + prepared.test.bytes,
      records: total,
      chunks: 1,
      eligible: total,
      duplicatesAcrossChunks: 0,
    },
    counts: { input: total, kept: total, filtered: 0, rejected: 0, byReason: {}, ...sizes },
    byCategory: { eligible: {}, train: {}, validation: {}, test: {} },
    lengths,
    lengthHistogram: {
      unit: 'characters',
      limit: config.prep.filters.maxChars,
      bins: [],
      p50: lengths.train.chars.p50,
      p95: lengths.train.chars.p95,
      max: lengths.train.chars.max,
    },
    tokenEstimate: {
      estimator: 'shared/catalog/tokens.ts estimateTokens',
      total: { train: prepared.train.tokens, validation: prepared.validation.tokens, test: prepared.test.tokens },
    },
    outputs: { ...prepared, rejects: file(`${base}rejects.jsonl`, []) },
    warnings: [],
    createdAt: '2026-01-01T00:00:00.000Z',
  };
  objects.push({ key: manifestKey, body: writeJsonArtifact(SplitManifest, manifest, manifestKey) });
  return objects;
}
