import { tokenLimitViolation, type TokenLimitRow } from '../catalog';
import type { PrepConfig } from '../config/run-config';
import { DUPLICATE, type RejectReason } from '../artifacts/reasons';
import type { RecordRules } from './rules';

/**
 * The filter policy: what makes a record kept, filtered or rejected, and the reason and detail each gets. Both ways a
 * record is read (parsed to a value, or looked at as bytes: see json-bytes-path.ts) describe the record through
 * `RecordFacts` and call `decide`, so they cannot disagree on an outcome; they differ only in how they learn the facts.
 */

/** Why a record is not kept; a kept record has no verdict (undefined), so keeping one allocates nothing. */
export interface Verdict {
  reason: RejectReason;
  detail: string;
  field?: string;
  /**
   * What a writer made of a verdict given to many records (a duplicate's: see duplicateOf), kept with it: the chunk
   * processor's reject line heads as bytes, with a line number and with a row number. Fields of the verdict, not an
   * array: each repeat reads one, and a repetitive corpus's verdicts are seldom in the cache when their text repeats.
   */
  lineHead?: Buffer;
  rowHead?: Buffer;
  /** A duplicate of a text kept in an earlier chunk of the run (its Place has a chunk). */
  earlierChunk?: boolean;
  /**
   * A duplicate in a chunk whose lines count from its own start, of a record on a line that is not a piece: the line
   * (and the earlier chunk) it names, for the short reject line (ChunkDuplicateLine), and that line's head as bytes.
   */
  sameLine?: { line: number; chunk?: number };
  shortHead?: Buffer;
}

/** What a field of the record holds: text (a string, number or boolean), nothing (absent or null), or another kind. */
export type FieldState = 'text' | 'missing' | { kind: string };

/** Where a record was kept: its line or row, and the chunk when it was an earlier chunk of the run. */
export interface Place {
  line?: number;
  row?: number;
  chunk?: number;
  /**
   * The piece of a document (continued pre-training) kept there, which a line alone does not tell apart: named in the
   * chunk's reject line (`line 3 piece 1`), which split renames to the record that stays and writes without it.
   */
  piece?: number;
  /** The duplicate verdicts that name this place, made on first use (see duplicateOf). */
  verdicts?: [Verdict | undefined, Verdict | undefined];
}

/**
 * What a record says, as the policy asks it, in the policy's order: a path works out only what is asked (the content
 * key of a record too long is never computed, nor the tokens of a duplicate). The text answers are of the record as
 * the template maps it; they are asked only once the fields passed.
 */
export interface RecordFacts {
  /** Undefined for an object; otherwise what the record is, for the detail ('an array', 'null', 'string'). */
  notObject(): string | undefined;
  field(name: string): FieldState;
  /** The first part of the mapped record that is empty or whitespace only, if any. */
  blankPart(): 'prompt' | 'completion' | 'text' | undefined;
  /** The first of `words` that the mapped record's prompt holds (a document has no prompt: none). */
  reservedWord(words: readonly string[]): string | undefined;
  /** Code points of the mapped record's parts (prompt and completion, or the text). */
  chars(): number;
  /** Where a record with the same text was kept first (in this chunk or an earlier one of the run), if one was. */
  keptBefore(): Place | undefined;
  tokensIn(): number;
  tokensOut(): number;
}

export interface FilterPolicy {
  /** The fields the template reads, in the order they are checked; an optional one may be missing. */
  fields: ReadonlyArray<{ name: string; required: boolean }>;
  dropEmpty: boolean;
  dropDuplicates: boolean;
  maxChars: number;
  tokenLimit?: Pick<TokenLimitRow, 'maxTokens' | 'maxInputTokens' | 'maxOutputTokens'>;
  /** Words a prompt may not hold (the base model reserves them); absent: no such filter. */
  reservedWords?: readonly string[];
  /** Lines of the chunk being read count from its own start: a duplicate of an earlier chunk's record names both. */
  relativeLines: boolean;
}

export function filterPolicy(rules: RecordRules, relativeLines = false): FilterPolicy {
  const { filters, template } = rules.config.prep;
  return {
    fields: templateFields(template),
    dropEmpty: filters.dropEmpty,
    dropDuplicates: filters.dropDuplicates,
    maxChars: filters.maxChars,
    tokenLimit: rules.tokenLimit,
    ...(rules.reservedWords ? { reservedWords: rules.reservedWords } : {}),
    relativeLines,
  };
}

/** The fields the template reads, in the order their problems are reported. */
export function templateFields(t: PrepConfig['template']): Array<{ name: string; required: boolean }> {
  if (t.kind === 'text') return [{ name: t.textField, required: true }];
  if (t.kind === 'fields')
    return [
      { name: t.promptField, required: true },
      { name: t.completionField, required: true },
    ];
  return [
    { name: t.instructionField, required: true },
    { name: t.outputField, required: true },
    { name: t.inputField, required: false },
  ];
}

/** The outcome of one record: undefined (kept) or the verdict. */
export function decide(f: RecordFacts, p: FilterPolicy): Verdict | undefined {
  return fieldsVerdict(f, p) ?? textVerdict(f, p);
}

/**
 * The record's shape: an object whose fields the template can read. Also asked alone for a document (continued
 * pre-training), whose text is cut into pieces that each get `textVerdict`.
 */
export function fieldsVerdict(
  f: Pick<RecordFacts, 'notObject' | 'field'>,
  p: Pick<FilterPolicy, 'fields'>,
): Verdict | undefined {
  const not = f.notObject();
  if (not !== undefined) return { reason: 'rejected:not_object', detail: `the record is ${not}, not an object` };
  for (const { name, required } of p.fields) {
    const s = f.field(name);
    if (s === 'text' || (s === 'missing' && !required)) continue;
    if (s === 'missing') return { reason: 'rejected:missing_field', detail: `field "${name}" is missing`, field: name };
    return { reason: 'rejected:wrong_type', detail: `field "${name}" is ${s.kind}, not text`, field: name };
  }
  return undefined;
}

/**
 * The filters on the mapped text, in order: empty, too long, a reserved word, too many tokens, a duplicate. Every
 * verdict but a duplicate is a function of the text alone, so it does not depend on which records were kept before:
 * two texts with one content key (the same normal form in other bytes: full-width letters, a ligature) can still
 * differ in length or token estimate, and with the duplicate looked up last the one over a limit is dropped for it
 * whether or not the other was kept first, in this chunk, an earlier one or another environment's.
 */
export function textVerdict(f: RecordFacts, p: FilterPolicy): Verdict | undefined {
  if (p.dropEmpty) {
    const blank = f.blankPart();
    if (blank !== undefined) return { reason: 'filtered:empty', detail: `the ${blank} is empty` };
  }
  const chars = f.chars();
  if (chars > p.maxChars)
    return {
      reason: 'filtered:too_long_chars',
      detail: `${chars} characters (Unicode code points) > the limit of ${p.maxChars}`,
    };
  if (p.reservedWords) {
    const word = f.reservedWord(p.reservedWords);
    if (word !== undefined)
      return {
        reason: 'filtered:reserved_word',
        detail: `the prompt holds "${word}", a keyword the base model reserves (the job would fail on it)`,
      };
  }
  if (p.tokenLimit) {
    const violation = tokenLimitViolation(p.tokenLimit, f.tokensIn(), f.tokensOut());
    if (violation) return { reason: 'filtered:too_many_tokens', detail: `estimated: ${violation}` };
  }
  if (p.dropDuplicates) {
    const first = f.keptBefore();
    if (first) return duplicateOf(first, p.relativeLines);
  }
  return undefined;
}

/** A document with no text: nothing to cut into pieces. */
export const emptyDocument = (): Verdict => ({ reason: 'filtered:empty', detail: 'the text is empty' });

/** A sentence longer than a record may be: dropped, not cut. */
export const sentenceTooLong = (chars: number): Verdict => ({
  reason: 'filtered:sentence_too_long',
  detail: `one sentence of ${chars} characters exceeds the record limit; it is dropped, not cut`,
});

/**
 * The verdict on a record whose text was kept at `first`: made once for the place and the kind of chunk, and kept on
 * the place, so every record that repeats it (most records of a repetitive corpus) gets the same object and its
 * reject line can be made once too (see ChunkProcessor.dropDuplicate).
 */
function duplicateOf(first: Place, relativeLines: boolean): Verdict {
  const made = (first.verdicts ??= [undefined, undefined]);
  const i = relativeLines ? 1 : 0;
  return (made[i] ??= {
    reason: DUPLICATE,
    detail: sameAs(first, relativeLines),
    lineHead: undefined,
    rowHead: undefined,
    earlierChunk: first.chunk !== undefined,
    sameLine:
      relativeLines && first.line !== undefined && first.piece === undefined
        ? { line: first.line, chunk: first.chunk }
        : undefined,
    shortHead: undefined,
  });
}

/**
 * A duplicate's detail. In a chunk whose lines count from its own start (relativeLines), a record kept by an earlier
 * chunk is named by its line in that chunk and the chunk (`line 3 of chunk 0`): split turns that into the line in the
 * file, as it does every line number of such a chunk's rejects (see shiftLineNumbers), so no file split writes has it;
 * likewise the piece of a document (Place.piece).
 */
function sameAs(first: Place, relativeLines: boolean): string {
  const piece = first.piece !== undefined ? ` piece ${first.piece}` : '';
  if (relativeLines && first.chunk !== undefined && first.line !== undefined)
    return `same text as line ${first.line} of chunk ${first.chunk}${piece}`;
  return `same text as ${first.line !== undefined ? `line ${first.line}` : `row ${first.row}`}${piece}`;
}

/** What a parsed value holds, as `FieldState`. */
export function fieldState(v: unknown): FieldState {
  if (v === undefined || v === null) return 'missing';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return 'text';
  return { kind: Array.isArray(v) ? 'an array' : typeof v };
}

/** What a parsed record is, when not an object (see RecordFacts.notObject). */
export function notObject(v: unknown): string | undefined {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return undefined;
  return Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v;
}
