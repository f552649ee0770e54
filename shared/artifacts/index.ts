/**
 * The artifacts one step writes and another reads, each with the one zod schema that defines it and that writer and
 * reader both import:
 *   manifest.json                  SplitManifest   split (shared/prep/write-sets.ts) -> submit, report
 *   parts/<k>.manifest.json        PartManifest    split (services/split) -> submit; read with SplitManifest as
 *                                                  DatasetManifest, both describing the sets in `outputs`
 *   rejects.jsonl                  RejectLine      split (shared/prep/write-sets.ts) -> report, the user
 *   chunks/<i>/rejects.jsonl       ChunkRejectLine transform (shared/prep/records.ts) -> split: a RejectLine, or a
 *                                                  duplicate in short that split writes out as its RejectLine
 *   chunks/<i>/meta.jsonl          KeptMeta        transform -> split
 *   prepared/test.jsonl            TestSetExtras   split -> evaluate: a test record and its category
 *   evaluation/samples.jsonl       EvaluationSample  evaluate -> report, btp compare
 *   the user's prompt file         PromptFileLine    the user -> ingest (checks it), evaluate
 *   evaluation/scores.json         EvaluationScores  evaluate -> gate, btp compare, report
 *   Bedrock's metrics CSVs         bedrock-metrics.ts  Bedrock -> monitor, report
 * and the reasons a record is dropped (RejectReason), which reject lines, counts and the report share.
 *
 * Versions: the manifests carry `schemaVersion` (ARTIFACTS_VERSION), and it stands for the line formats of the run's
 * files too. A line has no version field of its own: meta.jsonl and the rejects have a line per record, where a
 * field would cost bytes and time on every line, and no line file is read apart from its run, whose manifest says
 * which version wrote it. A change to any of these formats is a new ARTIFACTS_VERSION, except an addition to a chunk's
 * files that split reads beside what it read before (the short duplicates): those files live and die within one
 * preparation, so only a split older than its transform could meet it.
 *
 * Checked on write and on read: writers build values of these types and parse them before they write; readers parse
 * with the schema and fail with an ArtifactError naming the object key (and line). Two places are exempt for speed,
 * their hot loops run once per record: transform writes meta and reject lines by hand (records.ts), and split reads
 * meta lines with a byte reader (parseMetaBytes). There the writer's types carry the contract, and
 * test/unit/artifacts checks real writer output against these schemas, line for line.
 */
export * from './bedrock-metrics';
export * from './evaluation';
export * from './line-formats';
export * from './manifest';
export * from './parse';
export * from './prompt-file';
export * from './reasons';
