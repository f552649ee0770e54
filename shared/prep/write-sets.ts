import type { Readable } from 'node:stream';
import type { RunConfig } from '../config/run-config';
import { customizationSpec, findBaseModel } from '../catalog';
import type { S3ObjectRef } from '../messages/pipeline';
import type { ChunkResult, RunCounts } from '../runs/run';
import { DUPLICATE } from '../artifacts/reasons';
import { SplitManifest, type IngestPlan, type PreparedFile, type WrittenFile } from '../artifacts/manifest';
import { testLineTail, type KeptMeta } from '../artifacts/line-formats';
import { writeJsonArtifact } from '../artifacts/parse';
import type { StageKeys } from '../runs/keys';
import { addCounts, emptyCounts, inReasonOrder } from './counts';
import { shiftLineNumbers } from './line-numbers';
import { eachLineBytes, HashingLineWriter } from './lines';
import type { ArtifactStore } from './ports';
import { parseMetaBytes } from './records';
import { LINE, mergeRejects, ROW, type ChunkDuplicates } from './reject-order';
import { chooseSizes, SET_NAMES, selectSets, type Candidate, type SetName, type Sizes } from './select';
import { droppedForLength, lengthBins, summarize, tally } from './stats';

export type SplitOutcome =
  | { ok: false; failure: string; counts: RunCounts; warnings: string[] }
  | {
      ok: true;
      counts: RunCounts;
      sizes: Sizes;
      manifestKey: string;
      manifest: SplitManifest;
      /** Estimated tokens of each record of train.jsonl, in its line order (a stage's parts sum their share). */
      trainTokens: number[];
      warnings: string[];
    };

/** S3's smallest multipart part. */
const SET_PART_BYTES = 5 * 1024 * 1024;

/**
 * When pass 2 reads at most this much of kept.jsonl, each set goes out as one PUT of the length pass 1 worked out,
 * its body streamed as pass 2 writes it, so the set is stored when the pass ends; otherwise in parts. The bound keeps
 * a set's request from waiting long for its next bytes while pass 2 reads past records of other sets (S3 drops a
 * request idle for about 20 s); a run that large spends far longer elsewhere than on its sets' last part.
 */
const STREAMED_SETS_MAX_KEPT_BYTES = 256 * 1024 * 1024;

/**
 * The split, from the chunks' kept lines: drop duplicates across chunks (the record with the smallest source position
 * stays, as within a chunk), choose the sets by seeded hash, then stream the chosen records into train / validation /
 * test in source order, every dropped record into rejects.jsonl, and describe it all in manifest.json. Reading the
 * chunks twice keeps memory to the metadata of distinct records, never their text.
 */
export async function splitRun(args: {
  runId: string;
  /** The stage's artifact keys (shared/runs/keys.ts). */
  keys: StageKeys;
  source: S3ObjectRef;
  config: RunConfig;
  chunks: ChunkResult[];
  store: ArtifactStore;
  /** What ingest found and planned (the stage's `prepare.plan`). */
  plan: IngestPlan;
  warnings?: string[];
  now?: () => Date;
  /** Kept bytes up to which each set is streamed in one PUT; past it, in parts. STREAMED_SETS_MAX_KEPT_BYTES. */
  streamedSetsMaxKeptBytes?: number;
}): Promise<SplitOutcome> {
  const { runId, config, store, keys } = args;
  const chunks = [...args.chunks].sort((a, b) => a.index - b.index);
  const counts = chunks.reduce((acc, c) => addCounts(acc, c.counts), emptyCounts());

  const kept = await readCandidates(store, chunks, config.prep.filters.dropDuplicates);
  const crossDuplicates = kept.lines - kept.candidates.length;
  if (crossDuplicates > 0) {
    counts.kept -= crossDuplicates;
    counts.filtered += crossDuplicates;
    counts.byReason[DUPLICATE] = (counts.byReason[DUPLICATE] ?? 0) + crossDuplicates;
    counts.byReason = inReasonOrder(counts.byReason); // the run's reasons in one order, whoever found the duplicates
  }

  const warnings = [...(args.warnings ?? [])];
  const chosen = chooseSets(kept.candidates, config);
  warnings.push(...chosen.warnings);
  if (!chosen.ok) return { ok: false, failure: chosen.failure, counts, warnings };

  const written = await writeSets(
    store,
    keys,
    chunks,
    kept,
    chosen.sets,
    args.streamedSetsMaxKeptBytes ?? STREAMED_SETS_MAX_KEPT_BYTES,
    config.prep.template.kind === 'text',
  );
  const sizes: Sizes = {
    train: written.train.records,
    validation: written.validation.records,
    test: written.test.records,
  };
  const finalCounts: RunCounts = { ...counts, ...sizes };

  const described = describeSets(kept.candidates, chosen.sets, config.prep.filters.maxChars, finalCounts);
  const prepared = (set: SetName): PreparedFile => ({
    ...written[set],
    tokens: described.lengths[set].tokens.total,
    maxRecordTokens: described.lengths[set].tokens.max,
  });
  const manifest: SplitManifest = {
    schemaVersion: 1,
    kind: 'split',
    runId,
    source: args.source,
    config,
    seed: config.split.seed,
    input: {
      ...args.plan,
      chunks: chunks.length,
      eligible: kept.candidates.length,
      // Whoever found them: transform, when its environment had kept the text in an earlier chunk, or split.
      duplicatesAcrossChunks:
        chunks.reduce((n, c) => n + (c.duplicatesOfEarlierChunks ?? 0), 0) + crossDuplicates + written.renamed,
    },
    counts: finalCounts,
    ...described,
    outputs: {
      train: prepared('train'),
      validation: prepared('validation'),
      test: prepared('test'),
      rejects: written.rejects,
    },
    warnings,
    createdAt: (args.now ?? (() => new Date()))().toISOString(),
  };
  await store.put(keys.manifest, writeJsonArtifact(SplitManifest, manifest, keys.manifest), 'application/json');
  return {
    ok: true,
    counts: finalCounts,
    sizes,
    manifestKey: keys.manifest,
    manifest,
    trainTokens: written.trainTokens,
    warnings,
  };
}

/** Pass 1's result: the distinct records, and what it noted of every kept line for pass 2. */
interface KeptRecords {
  candidates: Candidate[];
  /** Per candidate: the ordinal (over all chunks' kept lines) of the line that stays. */
  reps: number[];
  /** Per chunk: each kept line's candidate, source line or row and rejected pieces before it, in line order. */
  notes: LineNotes[];
  /** Per chunk: what to add to its line numbers (lineOffsetsOf). */
  lineOffsets: number[];
  /** All chunks' kept lines, and their bytes with line breaks. */
  lines: number;
  bytes: number;
}

/** A meta.jsonl line under the names split uses (see Candidate), its line number in the whole input. */
const candidateOf = (key: string, m: KeptMeta, line: number | undefined): Candidate => ({
  key,
  position: m.p,
  piece: m.q,
  category: m.c,
  stratum: m.g,
  chars: m.n,
  tokens: m.t,
  line,
  row: m.w,
  bytes: m.b,
});

/**
 * Pass 1: the first of each distinct text, by source position. Each kept line's candidate (an index into
 * `candidates`) and source line or row are noted in line order, so pass 2 decides every line without parsing it
 * again. Only the metadata is read: the records are in kept.jsonl, line for line.
 */
async function readCandidates(store: ArtifactStore, chunks: ChunkResult[], dedup: boolean): Promise<KeptRecords> {
  const best = new Map<string, number>();
  const kept: KeptRecords = {
    candidates: [],
    reps: [],
    notes: chunks.map(() => new LineNotes()),
    lineOffsets: lineOffsetsOf(chunks),
    lines: 0,
    bytes: 0,
  };
  const { candidates, reps } = kept;
  let lines = 0;
  let bytes = 0;
  await readingAhead(
    store,
    chunks.map((c) => c.metaKey),
    async (next) => {
      for (const [j] of chunks.entries()) {
        const notes = kept.notes[j]!;
        const offset = kept.lineOffsets[j]!;
        // The pieces of one record kept so far (a continued pre-training document's, at one position).
        let record = -1;
        let keptOfRecord = 0;
        await eachLineBytes(await next(), (metaLine) => {
          const meta = parseMetaBytes(metaLine);
          const line = offset && meta.l !== undefined ? meta.l + offset : meta.l;
          const key = dedup ? meta.k : `${meta.k}@${meta.p}.${meta.q}`;
          let ci = best.get(key);
          if (ci === undefined) {
            ci = candidates.push(candidateOf(key, meta, line)) - 1;
            best.set(key, ci);
            reps.push(lines);
          } else {
            const prev = candidates[ci]!;
            // Chunks are read in source order, so the first seen is the first; this only guards that assumption.
            if (meta.p < prev.position || (meta.p === prev.position && meta.q < prev.piece)) {
              candidates[ci] = candidateOf(key, meta, line);
              reps[ci] = lines;
            }
          }
          if (meta.p === record) keptOfRecord++;
          else {
            record = meta.p;
            keptOfRecord = 0;
          }
          notes.push(ci, line, meta.w, meta.q, meta.q - keptOfRecord);
          lines++;
          bytes += meta.b + 1;
          return undefined;
        });
      }
    },
  );
  return { ...kept, lines, bytes };
}

/**
 * How many records each set gets (the run's sizes within the model's quotas) and which: per candidate, its set or
 * undefined.
 */
function chooseSets(
  candidates: readonly Candidate[],
  config: RunConfig,
):
  | { ok: false; failure: string; warnings: string[] }
  | { ok: true; sets: Array<SetName | undefined>; warnings: string[] } {
  const model = findBaseModel(config.training.baseModelId);
  const spec = model && customizationSpec(model, config.training.customizationType);
  const chosen = chooseSizes(candidates.length, config.split, {
    maxTraining: spec?.records.maxTraining.value,
    maxValidation: spec?.records.maxValidation.value,
    maxTotal: spec?.records.maxTotal.value,
  });
  if (chosen.failure) return { ok: false, failure: chosen.failure, warnings: chosen.warnings };
  const stratifyBy = config.split.stratifyBy;
  const stratum = stratifyBy
    ? (c: Candidate) => (stratifyBy === config.prep.categoryField ? c.category : c.stratum) ?? ''
    : undefined;
  const assign = selectSets(candidates, chosen.sizes, config.split.seed, stratum);
  return { ok: true, sets: candidates.map((c) => assign.get(c.key)), warnings: chosen.warnings };
}

/** Each set's size in bytes: its records' lines and line breaks, and in the test set each record's category. */
function bytesOfSets(
  candidates: readonly Candidate[],
  sets: ReadonlyArray<SetName | undefined>,
): Record<SetName, number> {
  const bytes: Record<SetName, number> = { train: 0, validation: 0, test: 0 };
  for (let i = 0; i < candidates.length; i++) {
    const set = sets[i];
    if (set === undefined) continue;
    const c = candidates[i]!;
    bytes[set] += c.bytes + 1 + (set === 'test' ? Buffer.byteLength(testLineTail(c.category)) : 0);
  }
  return bytes;
}

/**
 * A test record's line: the kept record with its category added (TestSetExtras), so the evaluation can score the
 * held-out set per category. Only the test set gets it; the sets Bedrock reads stay as kept.
 */
function testLine(line: Buffer, category: string | undefined, keptKey: string): Buffer {
  const tail = testLineTail(category);
  if (!tail) return line;
  if (line[line.length - 1] !== 0x7d) throw new Error(`${keptKey}: a kept record is not a JSON object`);
  return Buffer.concat([line.subarray(0, line.length - 1), Buffer.from(`${tail}}`)]);
}

/**
 * Pass 2: stream the chosen records out in source order, and each chunk's reject lines with the duplicates across
 * chunks found among its kept lines, in source order (mergeRejects). Notes each training record's tokens in the order
 * written; counts the duplicates transform had counted within their chunk that name a record of an earlier chunk once
 * renamed.
 */
async function writeSets(
  store: ArtifactStore,
  keys: StageKeys,
  chunks: ChunkResult[],
  kept: KeptRecords,
  sets: ReadonlyArray<SetName | undefined>,
  streamedMaxKeptBytes: number,
  /** The records are documents cut into pieces: a duplicate's line names its piece (Place.piece). */
  pieces: boolean,
): Promise<Record<SetName | 'rejects', WrittenFile> & { trainTokens: number[]; renamed: number }> {
  const { candidates, reps, notes: lines, lineOffsets } = kept;
  const open = (key: string, opts?: { partBytes?: number; size?: number }) => {
    const t = store.write(key, 'application/x-ndjson', opts);
    return new HashingLineWriter(key, t.stream, t.done);
  };
  // A set of known length is streamed in one PUT (STREAMED_SETS_MAX_KEPT_BYTES). Otherwise the sets go out in S3's
  // smallest parts: most of a set is then sent while this pass still reads, and less is left to send when it ends.
  // The rejects, whose length is not known before they are written, keep the default parts.
  const setBytes = kept.bytes <= streamedMaxKeptBytes ? bytesOfSets(candidates, sets) : undefined;
  const set = (name: SetName) =>
    open(keys.prepared(name), setBytes ? { size: setBytes[name] } : { partBytes: SET_PART_BYTES });
  const writers = { train: set('train'), validation: set('validation'), test: set('test') };
  const rejects = open(keys.rejects);
  const trainTokens: number[] = [];
  // Where each chunk's lines start in the ordinals over all chunks' kept lines.
  const firsts: number[] = [];
  lines.reduce((n, l) => (firsts.push(n), n + l.length), 0);
  // The line stays (the first of its text); when it is chosen for a set, its record is copied from the chunk.
  const chosenIn = (j: number) => (i: number) => {
    const ci = lines[j]!.candidate(i);
    return reps[ci] === firsts[j]! + i ? sets[ci] : undefined;
  };
  // A chunk's kept.jsonl is read again only when one of its records is in a set.
  const needed = lines.map((notes, j) => {
    const chosen = chosenIn(j);
    for (let i = 0; i < notes.length; i++) if (chosen(i) !== undefined) return true;
    return false;
  });
  // Whether split drops a kept line of each chunk, and of any chunk up to it: only then may a duplicate line of a
  // chunk name a record that does not stay (see mergeRejects).
  const drops = lines.map((notes, j) => {
    for (let i = 0; i < notes.length; i++) if (reps[notes.candidate(i)] !== firsts[j]! + i) return true;
    return false;
  });
  const dropsUpTo = drops.map((_, j) => drops.slice(0, j + 1).includes(true));
  const stays = staysAtIn(kept, firsts);
  let renamed = 0;
  const files = [writers.train, writers.validation, writers.test, rejects];
  try {
    await readingAhead(
      store,
      chunks.flatMap((c, j) => (needed[j] ? [c.rejectsKey, c.keptKey] : [c.rejectsKey])),
      async (next) => {
        for (const [j, chunk] of chunks.entries()) {
          const chunkRejects = await next();
          const notes = lines[j]!;
          const first = firsts[j]!;
          const duplicate = (i: number) => {
            const f = candidates[notes.candidate(i)]!;
            const detail =
              f.line !== undefined
                ? `same text as line ${f.line}`
                : f.row !== undefined
                  ? `same text as row ${f.row}`
                  : 'same text as an earlier record';
            return rejects.write(`{"reason":"${DUPLICATE}","detail":"${detail}"${notes.at(i)}}`);
          };
          // A document's duplicates name their piece, which is dropped: every line of such a chunk is looked at.
          const staysAt: ChunkDuplicates['staysAt'] =
            dropsUpTo[j] || pieces
              ? (kind, n, piece) => (dropsUpTo[j] ? stays(j, kind, n, piece) : undefined)
              : undefined;
          // A chunk numbered from its own start has its lines renumbered, and its duplicates in short written out
          // (the first chunk's offset is 0); they are renamed in the same pass (not pieces': see shiftLineNumbers).
          const shifted = chunk.relativeLines === true;
          const renames = shifted && staysAt && !pieces ? { staysAt, renamedInChunk: 0 } : undefined;
          // The chunk's reject lines, with the duplicates split found among its kept lines in their places.
          renamed += await mergeRejects(
            shifted ? shiftLineNumbers(chunkRejects, j, lineOffsets, renames, chunk.rejectsKey) : chunkRejects,
            rejects,
            {
              next: (from) => {
                if (!drops[j]) return -1;
                for (let i = from; i < notes.length; i++) if (reps[notes.candidate(i)] !== first + i) return i;
                return -1;
              },
              place: (i) => notes.place(i),
              skip: (i) => notes.skip(i),
              write: duplicate,
              staysAt: renames ? undefined : staysAt,
            },
          );
          renamed += renames?.renamedInChunk ?? 0;
          // No record of this chunk is in a set: its kept.jsonl is not read again.
          if (!needed[j]) continue;
          const chosen = chosenIn(j);
          let i = 0;
          await eachLineBytes(await next(), (line) => {
            const set = chosen(i);
            i++;
            if (!set) return undefined;
            const c = candidates[notes.candidate(i - 1)]!;
            if (set === 'train') trainTokens.push(c.tokens);
            return writers[set].writeBytes(set === 'test' ? testLine(line, c.category, chunk.keptKey) : line);
          });
          if (i !== notes.length)
            throw new Error(`${chunk.keptKey} has ${i} lines where ${chunk.metaKey} has ${notes.length}`);
        }
      },
    );
    // The four uploads finish side by side.
    const [train, validation, test, rejected] = await Promise.all([
      writers.train.close(),
      writers.validation.close(),
      writers.test.close(),
      rejects.close(),
    ]);
    return { train, validation, test, rejects: rejected, trainTokens, renamed };
  } catch (err) {
    // Nothing half-written is left to be stored, nor a request waiting for the rest of a body.
    for (const f of files) f.abort(err as Error);
    throw err;
  }
}

/** The manifest's description of the sets: categories, lengths and tokens, and the length histogram. */
function describeSets(
  candidates: readonly Candidate[],
  sets: ReadonlyArray<SetName | undefined>,
  limit: number,
  counts: RunCounts,
): Pick<SplitManifest, 'byCategory' | 'lengths' | 'lengthHistogram' | 'tokenEstimate'> {
  const inSet = (set: SetName) => candidates.filter((_, i) => sets[i] === set);
  const lengths = {} as SplitManifest['lengths'];
  const byCategory = { eligible: tally(candidates.map((c) => c.category)) } as SplitManifest['byCategory'];
  const tokenTotals = {} as Record<SetName, number>;
  for (const set of SET_NAMES) {
    const members = inSet(set);
    lengths[set] = { chars: summarize(members.map((c) => c.chars)), tokens: summarize(members.map((c) => c.tokens)) };
    byCategory[set] = tally(members.map((c) => c.category));
    tokenTotals[set] = lengths[set].tokens.total;
  }
  const lengthHistogram: SplitManifest['lengthHistogram'] = {
    unit: 'characters',
    limit,
    bins: lengthBins(
      candidates.filter((_, i) => sets[i] !== undefined).map((c) => c.chars),
      limit,
      droppedForLength(counts.byReason),
    ),
    p50: lengths.train.chars.p50,
    p95: lengths.train.chars.p95,
    max: lengths.train.chars.max,
  };
  const tokenEstimate = {
    estimator: 'shared/catalog/tokens.ts estimateTokens (conservative: one token per CJK character)',
    total: tokenTotals,
  };
  return { byCategory, lengths, lengthHistogram, tokenEstimate };
}

/**
 * Where the text kept at a line or row stays (ChunkDuplicates.staysAt), for the reject lines of chunk `j`: the record
 * named is found among the kept lines of chunk `j` and those before it, whose places ascend; a document's piece is
 * told apart by the piece transform names (-1: none named, one record a place).
 */
function staysAtIn(kept: KeptRecords, firsts: readonly number[]) {
  const { notes, candidates, reps } = kept;
  const withKept = notes.flatMap((n, j) => (n.length ? [j] : []));
  return (j: number, kind: number, n: number, piece: number): { place: number; inChunk: boolean } | undefined => {
    // The last chunk up to j whose first kept line is at or before n.
    let lo = 0;
    let hi = withKept.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = withKept[mid]!;
      if (c <= j && notes[c]!.place(0) <= n) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return undefined;
    const c = withKept[lo - 1]!;
    const ln = notes[c]!;
    let place: number | undefined;
    for (let i = ln.firstAtLeast(n); i < ln.length && ln.place(i) === n && ln.kindOf(i) === kind; i++) {
      if (piece >= 0 && ln.piece(i) !== piece) continue;
      const ci = ln.candidate(i);
      const f = candidates[ci]!;
      const at = reps[ci] === firsts[c]! + i ? n : kind === LINE ? f.line : f.row;
      if (at === undefined || (place !== undefined && at !== place)) return undefined;
      place = at;
    }
    return place === undefined || place === n ? undefined : { place, inChunk: c === j };
  };
}

/**
 * What to add to each chunk's line numbers: 0 for a chunk numbered in the whole file; for one numbered from its own
 * start (relativeLines), the line breaks of every chunk before it.
 */
function lineOffsetsOf(chunks: Array<Pick<ChunkResult, 'index' | 'lines' | 'relativeLines'>>): number[] {
  let before = 0;
  return chunks.map((c, j) => {
    const offset = c.relativeLines ? before : 0;
    if (chunks[j + 1]?.relativeLines) {
      if (c.lines === undefined)
        throw new Error(
          `chunk ${c.index} has no line count, and the lines of the chunks after it are counted from their own start`,
        );
      before += c.lines;
    }
    return offset;
  });
}

/**
 * What pass 1 notes of each kept line of a chunk, in order: its candidate, its source line or row, its piece and how
 * many pieces of its record transform rejected before it, in typed arrays (17 bytes a line), so pass 2 needs no second
 * parse.
 */
class LineNotes {
  private cands = new Int32Array(1024);
  private where = new Int32Array(1024);
  private skips = new Int32Array(1024);
  private pieces = new Int32Array(1024);
  private kind = new Uint8Array(1024);
  length = 0;

  push(candidate: number, line: number | undefined, row: number | undefined, piece: number, skip: number) {
    if (this.length === this.cands.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.cands = grow(this.cands);
      this.where = grow(this.where);
      this.skips = grow(this.skips);
      this.pieces = grow(this.pieces);
      this.kind = grow(this.kind);
    }
    this.cands[this.length] = candidate;
    this.kind[this.length] = line !== undefined ? LINE : row !== undefined ? ROW : 0;
    this.where[this.length] = line ?? row ?? 0;
    this.skips[this.length] = skip;
    this.pieces[this.length] = piece;
    this.length++;
  }

  candidate(i: number): number {
    return this.cands[i]!;
  }

  /** The line or row (see `kindOf`); 0 for a line with neither. */
  place(i: number): number {
    return this.where[i]!;
  }

  /** The line's place as the tail of a reject line: `,"line":N`, `,"row":N` or nothing. */
  at(i: number): string {
    const k = this.kind[i];
    return k === LINE ? `,"line":${this.where[i]}` : k === ROW ? `,"row":${this.where[i]}` : '';
  }

  /** The piece of its document (meta.jsonl's `q`). */
  piece(i: number): number {
    return this.pieces[i]!;
  }

  kindOf(i: number): number {
    return this.kind[i]!;
  }

  /** The pieces of the line's record that transform rejected before it (see ChunkDuplicates.skip). */
  skip(i: number): number {
    return this.skips[i]!;
  }

  /** The first line from `from` on whose place is at least `n` (the places ascend): `length` when none. */
  firstAtLeast(n: number, from = 0): number {
    let lo = from;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.where[mid]! < n) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Reads `keys` in turn (`next()` gives each one's stream), each GET started while the one before it is read: the
 * request's round trip to the store is spent while the previous object is still being worked on, not between the two.
 * A read started ahead and not taken (the work stopped on an error) is ended.
 */
async function readingAhead(
  store: ArtifactStore,
  keys: string[],
  work: (next: () => Promise<Readable>) => Promise<void>,
): Promise<void> {
  const started: Array<Promise<Readable>> = [];
  const start = (i: number) => {
    if (i >= keys.length || started[i]) return;
    const p = store.read(keys[i]!);
    p.catch(() => undefined); // a failure is thrown to whoever asks for it, not left unhandled meanwhile
    started[i] = p;
  };
  let taken = 0;
  const next = () => {
    if (taken >= keys.length) throw new Error(`asked for more than the ${keys.length} objects planned`);
    start(taken);
    start(taken + 1);
    return started[taken++]!;
  };
  try {
    await work(next);
  } finally {
    for (const p of started.slice(taken))
      p?.then(
        (r) => r.destroy(),
        () => undefined,
      );
  }
}
