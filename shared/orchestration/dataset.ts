import { ArtifactError, DatasetManifest, readJsonArtifact, trainingFiles, type PreparedFile } from '../artifacts';
import type { ObjectStore } from './ports';

/** Size figures of one prepared file, as the preflight and the cost estimate need them. */
export interface FileStats {
  records: number;
  bytes: number;
  /** Estimated tokens of all records (conservative, shared/catalog/tokens.ts). */
  tokens: number;
  /** Estimated tokens of the largest record (input + output). */
  maxRecordTokens: number;
}

export interface DatasetFile {
  name: 'train' | 'validation' | 'test';
  key: string;
  s3Uri: string;
  stats: FileStats;
}

export interface PreparedDataset {
  manifestKey: string;
  train: DatasetFile;
  validation?: DatasetFile;
  test?: DatasetFile;
}

/**
 * The sets a job trains on, from the manifest split wrote: a stage's (manifest.json) or one part's
 * (parts/<k>.manifest.json), read through their schema (shared/artifacts). The manifest describes each set, so no set
 * is read here; an empty validation or test set is none.
 */
export async function loadPreparedDataset(
  objects: ObjectStore,
  bucket: string,
  manifestKey: string,
): Promise<PreparedDataset> {
  const text = await objects.getText(bucket, manifestKey);
  if (text === undefined) throw new ArtifactError(`manifest s3://${bucket}/${manifestKey} does not exist`, manifestKey);
  const files = trainingFiles(readJsonArtifact(DatasetManifest, text, manifestKey));
  const file = (name: DatasetFile['name'], f: PreparedFile): DatasetFile => ({
    name,
    key: f.key,
    s3Uri: `s3://${bucket}/${f.key}`,
    stats: { records: f.records, bytes: f.bytes, tokens: f.tokens, maxRecordTokens: f.maxRecordTokens },
  });
  return {
    manifestKey,
    train: file('train', files.train),
    ...(files.validation ? { validation: file('validation', files.validation) } : {}),
    ...(files.test ? { test: file('test', files.test) } : {}),
  };
}
