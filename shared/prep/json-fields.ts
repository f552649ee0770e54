import { codePointLength } from './text';

/**
 * A byte-level reader of flat JSON objects (every value a string), for the common JSON Lines record: finds the byte
 * ranges of the fields the template needs, with their length in code points and whether they are blank, without
 * decoding the record to a JS string. Decoding UTF-8 Japanese text is the costliest step per record, and most records
 * of a large corpus are dropped (duplicates, too long) before their text is needed.
 *
 * It accepts only what it fully checks (and what JSON.parse would accept the same way); anything else, a number, a
 * nested object, a surrogate escape, a malformed record, answers undefined and the caller parses the record as before.
 */
export interface FieldRange {
  /** Bytes of the string's content, between the quotes. */
  start: number;
  end: number;
  /**
   * Whether the content holds backslash escapes (then its bytes are not its text). A lazy field, not checked, says
   * true: it may.
   */
  escaped: boolean;
  /**
   * Whether the content's bytes are what JSON.stringify writes for its text (no escapes, or only the ones it writes),
   * so they can be copied into a JSON line as they are. Known only from `decodedText`; false otherwise.
   */
  canonical: boolean;
  /** Length of the text in Unicode code points. */
  chars: number;
  /** Whether the text is empty or whitespace only (as `s.trim() === ''`). */
  blank: boolean;
  /** False for a lazy field: only its end was found; `chars` and `blank` are unknown until `checkString`. */
  checked: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isWs = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/**
 * Reads flat JSON objects of strings (see the module comment), one record at a time, for a fixed set of wanted keys.
 * After `read`, `fields[i]` is the range of the value of `names[i]` in that record, or undefined (a record that gives
 * a wanted key twice is not read: the general way parses it). The values of `lazy` keys are only delimited, not
 * checked: the caller checks them (`checkString`) unless it knows their bytes already. Keys are compared as bytes,
 * nothing is decoded.
 */
export class FlatObjectReader {
  /** Valid until the next `read`: the ranges are the reader's own, filled again for each record. */
  readonly fields: (FieldRange | undefined)[];
  private readonly keys: Buffer[];
  private readonly lazy: boolean[];
  /** One range per wanted key, and one for the values of other keys (checked, then forgotten). */
  private readonly ranges: FieldRange[];
  private readonly other = emptyRange();

  constructor(
    readonly names: readonly string[],
    lazy: ReadonlySet<string> = new Set(),
  ) {
    this.keys = names.map((n) => Buffer.from(n, 'utf8'));
    this.lazy = names.map((n) => lazy.has(n));
    this.fields = names.map(() => undefined);
    this.ranges = names.map(() => emptyRange());
  }

  /** False when `b` is not a flat object of strings that this reader checks. */
  read(b: Buffer): boolean {
    const fields = this.fields;
    for (let k = 0; k < fields.length; k++) fields[k] = undefined;
    const n = b.length;
    let i = 0;
    while (i < n && isWs(b[i]!)) i++;
    if (b[i] !== 0x7b) return false;
    i++;
    for (;;) {
      while (i < n && isWs(b[i]!)) i++;
      if (b[i] !== QUOTE) return false; // also `{}`: empty objects go the general way
      const ks = i + 1;
      let ke = ks;
      while (ke < n) {
        const c = b[ke]!;
        if (c === QUOTE) break;
        if (c === BACKSLASH || c < 0x20) return false; // escaped keys go the general way
        ke++;
      }
      if (ke >= n) return false;
      const slot = this.slotOf(b, ks, ke);
      // `__proto__`, and a wanted key given twice, go the general way: JSON.parse checks the first value too (a lazy
      // field is only delimited here), and takes the last.
      if (slot === -2 || (slot >= 0 && fields[slot] !== undefined)) return false;
      i = ke + 1;
      while (i < n && isWs(b[i]!)) i++;
      if (b[i] !== 0x3a) return false;
      i++;
      while (i < n && isWs(b[i]!)) i++;
      if (b[i] !== QUOTE) return false; // a number, literal, object or array: the general way
      const into = slot >= 0 ? this.ranges[slot]! : this.other;
      const r = slot >= 0 && this.lazy[slot] ? delimitString(b, i + 1, into) : checkString(b, i + 1, into);
      if (!r) return false;
      if (slot >= 0) fields[slot] = r;
      i = r.end + 1;
      while (i < n && isWs(b[i]!)) i++;
      const c = b[i];
      i++;
      if (c === 0x2c) continue;
      if (c !== 0x7d) return false;
      while (i < n && isWs(b[i]!)) i++;
      return i === n;
    }
  }

  /** The wanted key whose bytes are b[ks, ke), or -1; -2 for `__proto__`, which the general way handles. */
  private slotOf(b: Buffer, ks: number, ke: number): number {
    const len = ke - ks;
    if (len === 9 && b.toString('latin1', ks, ke) === '__proto__') return -2;
    const keys = this.keys;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      if (key.length !== len) continue;
      let j = 0;
      while (j < len && key[j] === b[ks + j]) j++;
      if (j === len) return k;
    }
    return -1;
  }
}

const HEX = (c: number) =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;

/**
 * The end of a JSON string's content from `s`: its first quote not escaped by a backslash. Nothing else is checked,
 * not even whether it holds escapes (a repeat's text is known without its field being read again).
 */
function delimitString(b: Buffer, s: number, into: FieldRange): FieldRange | undefined {
  let from = s;
  for (;;) {
    const q = b.indexOf(QUOTE, from);
    if (q < 0) return undefined;
    let k = q - 1;
    while (k >= s && b[k] === BACKSLASH) k--;
    if ((q - 1 - k) % 2 === 0) return fill(into, s, q, true, -1, false, false);
    from = q + 1;
  }
}

const emptyRange = (): FieldRange => ({
  start: 0,
  end: 0,
  escaped: false,
  canonical: false,
  chars: 0,
  blank: false,
  checked: false,
});

function fill(
  r: FieldRange,
  start: number,
  end: number,
  escaped: boolean,
  chars: number,
  blank: boolean,
  checked: boolean,
): FieldRange {
  r.start = start;
  r.end = end;
  r.escaped = escaped;
  r.chars = chars;
  r.blank = blank;
  r.checked = checked;
  r.canonical = false;
  return r;
}

/**
 * A JSON string's content from `s` (after the opening quote) to its closing quote; undefined when it is not valid.
 * `into`: the range to fill (a reader's own, reused record after record), else a new one.
 */
export function checkString(b: Buffer, s: number, into?: FieldRange): FieldRange | undefined {
  const n = b.length;
  let chars = 0;
  let blank = true;
  let escaped = false;
  let i = s;
  while (i < n) {
    const c = b[i]!;
    if (c === QUOTE) return fill(into ?? emptyRange(), s, i, escaped, chars, blank, true);
    if (c < 0x80) {
      if (c < 0x20) return undefined; // JSON.parse refuses raw control characters in strings
      if (c === BACKSLASH) {
        escaped = true;
        const e = b[i + 1];
        let code: number;
        if (e === 0x75) {
          const h = HEX(b[i + 2] ?? 0) * 4096 + HEX(b[i + 3] ?? 0) * 256 + HEX(b[i + 4] ?? 0) * 16 + HEX(b[i + 5] ?? 0);
          if (HEX(b[i + 2] ?? 0) < 0 || HEX(b[i + 3] ?? 0) < 0 || HEX(b[i + 4] ?? 0) < 0 || HEX(b[i + 5] ?? 0) < 0)
            return undefined;
          if (h >= 0xd800 && h <= 0xdfff) return undefined; // surrogates (pairs or lone) go the general way
          code = h;
          i += 6;
        } else {
          code =
            e === 0x6e
              ? 10
              : e === 0x72
                ? 13
                : e === 0x74
                  ? 9
                  : e === 0x66
                    ? 12
                    : e === 0x62
                      ? 8
                      : e === QUOTE || e === BACKSLASH || e === 0x2f
                        ? e
                        : -1;
          if (code < 0) return undefined;
          i += 2;
        }
        chars++;
        if (blank && String.fromCharCode(code).trim() !== '') blank = false;
        continue;
      }
      chars++;
      if (blank && c !== 0x20) blank = false;
      i++;
      continue;
    }
    if ((c & 0xc0) !== 0x80) {
      chars++;
      // Only the leading characters are decoded, until the first that is not whitespace (U+3000 and friends are).
      if (blank) {
        const len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        if (b.toString('utf8', i, i + len).trim() !== '') blank = false;
      }
    }
    i++;
  }
  return undefined;
}

// eslint-disable-next-line no-control-regex -- the control characters JSON forbids raw in a string
const CONTROL = /[\u0000-\u001f]/;

/**
 * The text of a delimited string field (`r` from the reader: its content's bytes), decoded and checked, with `r`
 * filled as `checkString` fills it: for a field whose text is needed anyway, one decoding and a few native scans of
 * the string cost less than `checkString`'s loop over the bytes and a decoding after. A field with escapes is parsed
 * by JSON.parse, after its escapes are looked at to learn whether they are all ones JSON.stringify writes
 * (`r.canonical`). Undefined when the field holds a raw control character, an escape JSON does not have or a
 * surrogate escape: `checkString` refuses those too, and the record goes the general way.
 */
export function decodedText(b: Buffer, r: FieldRange): string | undefined {
  let bs = b.indexOf(BACKSLASH, r.start);
  if (bs === -1 || bs >= r.end) {
    const s = b.toString('utf8', r.start, r.end);
    if (CONTROL.test(s)) return undefined;
    fill(r, r.start, r.end, false, codePointLength(s), s.trim() === '', true);
    r.canonical = true;
    return s;
  }
  let canonical = true;
  for (; bs !== -1 && bs < r.end; bs = b.indexOf(BACKSLASH, bs + 2)) {
    const e = b[bs + 1]!;
    if (e === 0x75) {
      let v = 0;
      let lower = true;
      for (let k = 2; k < 6; k++) {
        const c = b[bs + k] ?? 0;
        const h = HEX(c);
        if (h < 0) return undefined;
        if (c >= 0x41 && c <= 0x46) lower = false;
        v = v * 16 + h;
      }
      if (v >= 0xd800 && v <= 0xdfff) return undefined; // surrogates go the general way, as in checkString
      // JSON.stringify writes \u only for a control character without a short escape, in lowercase hex.
      if (!(lower && v < 0x20 && v !== 8 && v !== 9 && v !== 10 && v !== 12 && v !== 13)) canonical = false;
      bs += 4;
    } else if (e === 0x2f) {
      canonical = false; // JSON.stringify does not escape a solidus
    } else if (!(
      e === QUOTE ||
      e === BACKSLASH ||
      e === 0x62 ||
      e === 0x66 ||
      e === 0x6e ||
      e === 0x72 ||
      e === 0x74
    )) {
      return undefined;
    }
  }
  let s: string;
  try {
    s = JSON.parse(b.toString('utf8', r.start - 1, r.end + 1)) as string;
  } catch {
    return undefined; // a raw control character
  }
  fill(r, r.start, r.end, true, codePointLength(s), s.trim() === '', true);
  r.canonical = canonical;
  return s;
}

/** The text of a string field: its bytes decoded, or JSON-parsed when it holds escapes. */
export function fieldText(b: Buffer, r: FieldRange | undefined): string {
  if (!r) return '';
  return r.escaped
    ? (JSON.parse(b.toString('utf8', r.start - 1, r.end + 1)) as string)
    : b.toString('utf8', r.start, r.end);
}

/**
 * The first characters of a record's text for reject lines, as `prefix(bytes.toString())` would give them, decoding
 * only the head: 120 UTF-16 units take at most 360 bytes.
 */
export function headText(b: Buffer, max: number): string {
  const limit = max * 3 + 4;
  if (b.length <= limit) return b.toString('utf8');
  let end = limit;
  while (end > 0 && (b[end]! & 0xc0) === 0x80) end--; // never cut a character
  return b.toString('utf8', 0, end);
}

/**
 * Writes into `out` at `at` the JSON string body (no quotes) of the first `max` UTF-16 units of the UTF-8 text `b`,
 * with '…' when cut: the bytes `JSON.stringify(prefix(b.toString()))` holds between its quotes, without decoding the
 * text. Returns the end offset. `out` needs room for 6 bytes per input byte read (worst case: control characters).
 */
export function writePrefixJson(b: Buffer, max: number, out: Buffer, at: number): number {
  let units = 0;
  let i = 0;
  const n = b.length;
  let o = at;
  while (i < n) {
    const c = b[i]!;
    const len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    const w = len === 4 ? 2 : 1; // a 4-byte character is a surrogate pair: two units, never cut in half
    if (units + w > max) {
      out[o++] = 0xe2; // …
      out[o++] = 0x80;
      out[o++] = 0xa6;
      return o;
    }
    units += w;
    if (len > 1) {
      // Byte by byte: a library copy per character costs more than the few bytes it moves.
      for (let k = 0; k < len; k++) out[o++] = b[i++]!;
      continue;
    }
    i++;
    if (c === QUOTE || c === BACKSLASH) {
      out[o++] = BACKSLASH;
      out[o++] = c;
    } else if (c >= 0x20) {
      out[o++] = c;
    } else {
      const named = c === 8 ? 0x62 : c === 9 ? 0x74 : c === 10 ? 0x6e : c === 12 ? 0x66 : c === 13 ? 0x72 : 0;
      out[o++] = BACKSLASH;
      if (named) out[o++] = named;
      else o += out.write(`u${c.toString(16).padStart(4, '0')}`, o, 'latin1');
    }
  }
  return o;
}
