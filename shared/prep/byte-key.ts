import * as crypto from 'node:crypto';
import type { FieldRange } from './json-fields';

/**
 * A new text's facts worked out from the bytes of its JSON string fields, without decoding them into strings: its
 * content key (text.ts contentKey), token estimates (catalog estimateTokens) and each field's length and blankness,
 * in one loop over the bytes. Decoding UTF-8 Japanese text into strings, normalizing them and hashing them again as
 * UTF-8 was most of the cost of a record seen for the first time.
 *
 * contentKey hashes each part's normalizeText: NFKC, then runs of whitespace as one space, trimmed. For a text whose
 * every character NFKC leaves as it is, or maps to one ASCII character by the fullwidth rule (U+FF01-U+FF5E to
 * U+0021-U+007E), that form is a function of each character alone, which the loop writes out as it reads: none of
 * these characters decomposes otherwise, has a combining class, or composes with a neighbour (Unicode's quick check:
 * https://unicode.org/reports/tr15/#Detecting_Normalization_Forms). `SAME` below lists them: ASCII, hiragana and
 * katakana without the combining sound marks, CJK unified ideographs, and Japanese punctuation. A text with any other
 * character (accented letters, other scripts, half-width kana, U+3000, compatibility symbols, an escaped surrogate),
 * or that is not valid JSON, answers false, and the caller takes the string way. test/unit/prep/byte-key.test.ts
 * checks every character of the set against String.prototype.normalize and the keys against contentKey.
 */

/** What a character is to the normal form: left as it is, whitespace, mapped to ASCII, or outside the set. */
const OUT = 0;
const SAME = 1;
const WS = 2;
const WIDE = 3;

/** Characters (code points below 0x10000) by what they are to the normal form. */
const CLASS = (() => {
  const t = new Uint8Array(0x10000);
  const mark = (from: number, to: number, c: number) => t.fill(c, from, to + 1);
  mark(0x21, 0x7e, SAME);
  for (const w of [0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]) t[w] = WS;
  mark(0x3001, 0x3002, SAME); // 、。
  mark(0x3005, 0x3005, SAME); // 々
  mark(0x3008, 0x3011, SAME); // 〈〉《》「」『』【】
  mark(0x3014, 0x301c, SAME); // 〔〕〖〗〘〙〚〛〜
  mark(0x3041, 0x3096, SAME); // hiragana
  mark(0x309d, 0x309e, SAME); // ゝゞ
  mark(0x30a1, 0x30fe, SAME); // katakana, ・ー ヽヾ
  mark(0x4e00, 0x9fff, SAME); // CJK unified ideographs
  mark(0xff01, 0xff5e, WIDE); // fullwidth ASCII
  return t;
})();

/** Exported for the test that checks the set against String.prototype.normalize. */
export const byteKeyClasses = { table: CLASS, OUT, SAME, WS, WIDE } as const;

const BACKSLASH = 0x5c;

/** A part of the text made of a template's own string, as code points; undefined when it has a character outside. */
function templatePart(s: string): Uint32Array | undefined {
  const cps = Uint32Array.from([...s].map((c) => c.codePointAt(0)!));
  return cps.every((c) => c < 0x10000 && CLASS[c] !== OUT) ? cps : undefined;
}

/** What `ByteKeyer.scan` found, valid until the next scan. */
export interface ByteKeyed {
  /** The content key, as contentKey([prompt, completion]) gives it. */
  key: string;
  tokensIn: number;
  tokensOut: number;
  /** The prompt as the template makes it, as UTF-8 bytes (a view of a scratch buffer), for the reserved words. */
  prompt: Buffer;
  /** Whether the input goes into the prompt: present and not blank. */
  withInput: boolean;
}

/**
 * The loop, for one template: `prefix` and `separator` go around the input in the prompt (the dolly template) and
 * are empty for the fields template. One per byte path; its buffers are reused from record to record.
 */
export class ByteKeyer {
  private readonly prefix?: Uint32Array;
  private readonly separator?: Uint32Array;
  /** False when the template's own strings have a character outside the set: every text takes the string way. */
  readonly usable: boolean;
  /** The normal forms of both parts, each followed by a NUL, as contentKey hashes them. */
  private norm = Buffer.allocUnsafe(64 * 1024);
  private n = 0;
  /** The prompt as mapped (escapes decoded, nothing normalized). */
  private mapped = Buffer.allocUnsafe(64 * 1024);
  private m = 0;
  /** Whitespace read since the last character written, and whether a character was written in this part. */
  private pendingSpace = false;
  private any = false;
  /** estimateTokens' state over the part being read. */
  private tokens = 0;
  private run = 0;
  private words = 0;
  private inWord = false;
  private readonly out: ByteKeyed = { key: '', tokensIn: 0, tokensOut: 0, prompt: this.mapped, withInput: false };

  constructor(template: { inputPrefix: string; knowledgeSeparator: string } | undefined) {
    this.prefix = templatePart(template?.inputPrefix ?? '');
    this.separator = templatePart(template?.knowledgeSeparator ?? '');
    this.usable = this.prefix !== undefined && this.separator !== undefined;
  }

  /**
   * Reads the fields `a` (instruction or prompt), `input` (when the template has one) and `b` (completion) of `bytes`,
   * each delimited by the reader, and fills each range's length, blankness and escapes as checkString would. The
   * answer, or undefined when a field has a character outside the set or is not valid JSON (nothing is filled then).
   */
  scan(bytes: Buffer, a: FieldRange, input: FieldRange | undefined, b: FieldRange): ByteKeyed | undefined {
    if (!this.usable) return undefined;
    const inputBlank = input ? this.blank(bytes, input) : true;
    if (inputBlank === undefined) return undefined;
    const withInput = input !== undefined && !inputBlank;
    const need =
      3 * (b.end - b.start + a.end - a.start + (input ? input.end - input.start : 0)) +
      3 * (this.prefix!.length + this.separator!.length) +
      64;
    if (this.norm.length < need) {
      this.norm = Buffer.allocUnsafe(2 * need);
      this.mapped = Buffer.allocUnsafe(2 * need);
    }
    this.n = 0;
    this.m = 0;
    this.startPart();
    if (withInput) this.template(this.prefix!);
    if (!this.field(bytes, a, true)) return undefined;
    if (withInput) {
      this.template(this.separator!);
      if (!this.field(bytes, input, true)) return undefined;
    }
    const tokensIn = this.endPart();
    const prompt = this.mapped.subarray(0, this.m);
    if (!this.field(bytes, b, false)) return undefined;
    const tokensOut = this.endPart();
    const out = this.out;
    out.key = crypto.hash('sha256', this.norm.subarray(0, this.n), 'hex').slice(0, 32);
    out.tokensIn = tokensIn;
    out.tokensOut = tokensOut;
    out.prompt = prompt;
    out.withInput = withInput;
    return out;
  }

  /**
   * Whether a field is blank (empty or whitespace only, as `s.trim() === ''`), read up to its first character that is
   * not whitespace; undefined when that character is outside the set (U+3000 is whitespace to trim, and outside). A
   * blank field is filled here, as it is not read again: it is left out of the prompt.
   */
  private blank(b: Buffer, r: FieldRange): boolean | undefined {
    let chars = 0;
    let escaped = false;
    let canonical = true;
    for (let i = r.start; i < r.end; i++, chars++) {
      const c = b[i]!;
      if (c === 0x20) continue;
      if (c === BACKSLASH) {
        escaped = true;
        const e = b[i + 1];
        i++;
        if (e === 0x6e || e === 0x72 || e === 0x74 || e === 0x66) continue;
        if (e === 0x22 || e === BACKSLASH || e === 0x2f) return false;
        if (e !== 0x75) return undefined; // not JSON: the string way says so
        const u = unicodeEscape(b, i - 1);
        if (u < 0 || CLASS[u] === OUT) return undefined;
        if (CLASS[u] !== WS) return false;
        if (!(u === 0x0b && lowerHex(b, i - 1))) canonical = false;
        i += 4;
        continue;
      }
      if (c < 0x80) return c < 0x20 ? undefined : false;
      const cp = c >= 0xe0 && c < 0xf0 ? ((c & 0x0f) << 12) | ((b[i + 1]! & 0x3f) << 6) | (b[i + 2]! & 0x3f) : -1;
      return cp >= 0 && CLASS[cp] !== OUT && CLASS[cp] !== WS ? false : undefined;
    }
    // Spaces and the short escapes of whitespace, which JSON.stringify writes so: canonical.
    checked(r, chars, true, escaped, canonical);
    return true;
  }

  private startPart() {
    this.pendingSpace = false;
    this.any = false;
    this.tokens = 0;
    this.run = 0;
    this.words = 0;
    this.inWord = false;
  }

  /** Ends a part: the NUL contentKey puts after each; the part's token estimate. */
  private endPart(): number {
    this.norm[this.n++] = 0;
    const tokens = this.run > 0 ? this.tokens + Math.max(Math.ceil(this.run / 4), this.words) : this.tokens;
    this.startPart();
    return tokens;
  }

  private template(cps: Uint32Array) {
    for (let i = 0; i < cps.length; i++) {
      const cp = cps[i]!;
      this.char(cp);
      this.m = writeUtf8(this.mapped, this.m, cp);
    }
  }

  /** One character of the mapped text: its token count, and its normal form written out. */
  private char(cp: number) {
    const cls = CLASS[cp]!;
    if (cp < 0x80) {
      this.run++;
      if (cls === WS) this.inWord = false;
      else if (!this.inWord) {
        this.inWord = true;
        this.words++;
      }
    } else {
      if (this.run > 0) this.tokens += Math.max(Math.ceil(this.run / 4), this.words);
      this.run = 0;
      this.words = 0;
      this.inWord = false;
      this.tokens++;
    }
    if (cls === WS) {
      this.pendingSpace = true;
      return;
    }
    if (this.pendingSpace && this.any) this.norm[this.n++] = 0x20;
    this.pendingSpace = false;
    this.any = true;
    this.n = writeUtf8(this.norm, this.n, cls === WIDE ? cp - 0xfee0 : cp);
  }

  /**
   * Reads one field's content; false when it has a character outside the set or is not valid JSON. The loop is `char`
   * written out over local copies of the state, with a short way for a character of three bytes left as it is (the
   * bulk of Japanese text): it runs over every byte of every new text.
   */
  private field(b: Buffer, r: FieldRange, inPrompt: boolean): boolean {
    let chars = 0;
    let blank = true;
    let escaped = false;
    let canonical = true;
    const norm = this.norm;
    const mapped = this.mapped;
    let n = this.n;
    let m = this.m;
    let pendingSpace = this.pendingSpace;
    let any = this.any;
    let tokens = this.tokens;
    let run = this.run;
    let words = this.words;
    let inWord = this.inWord;
    const end = r.end;
    for (let i = r.start; i < end;) {
      const c = b[i]!;
      let cp: number;
      if (c >= 0xe0 && c < 0xf0) {
        const c1 = b[i + 1]!;
        const c2 = b[i + 2]!;
        cp = ((c & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f);
        const cls = CLASS[cp]!;
        if (cls === OUT) return false;
        chars++;
        blank = false;
        if (run > 0) tokens += Math.max(Math.ceil(run / 4), words);
        run = 0;
        words = 0;
        inWord = false;
        tokens++;
        if (pendingSpace && any) norm[n++] = 0x20;
        pendingSpace = false;
        any = true;
        if (cls === WIDE) norm[n++] = cp - 0xfee0;
        else {
          norm[n] = c;
          norm[n + 1] = c1;
          norm[n + 2] = c2;
          n += 3;
        }
        if (inPrompt) {
          mapped[m] = c;
          mapped[m + 1] = c1;
          mapped[m + 2] = c2;
          m += 3;
        }
        i += 3;
        continue;
      }
      if (c === BACKSLASH) {
        escaped = true;
        const e = b[i + 1];
        let len = 2;
        if (e === 0x6e) cp = 0x0a;
        else if (e === 0x74) cp = 0x09;
        else if (e === 0x72) cp = 0x0d;
        else if (e === 0x66) cp = 0x0c;
        else if (e === 0x22 || e === BACKSLASH) cp = e;
        else if (e === 0x2f) {
          cp = e;
          canonical = false; // JSON.stringify writes a solidus as it is
        } else if (e === 0x75) {
          cp = unicodeEscape(b, i);
          if (cp < 0) return false;
          len = 6;
          // JSON.stringify writes \u only for a control character without a short escape (here U+000B), in lower case.
          if (!(cp === 0x0b && lowerHex(b, i))) canonical = false;
        } else return false;
        if (CLASS[cp] === OUT) return false;
        if (inPrompt) m = writeUtf8(mapped, m, cp);
        i += len;
      } else {
        // Two- and four-byte characters are all outside the set; a raw control character is not JSON.
        if (c >= 0x80 || c < 0x20) return false;
        cp = c;
        if (inPrompt) mapped[m++] = c;
        i++;
      }
      // One character of one byte (after an escape, maybe more), as `char` reads it.
      chars++;
      const cls = CLASS[cp]!;
      if (cp < 0x80) {
        run++;
        if (cls === WS) inWord = false;
        else if (!inWord) {
          inWord = true;
          words++;
        }
      } else {
        if (run > 0) tokens += Math.max(Math.ceil(run / 4), words);
        run = 0;
        words = 0;
        inWord = false;
        tokens++;
      }
      if (cls === WS) {
        pendingSpace = true;
        continue;
      }
      blank = false;
      if (pendingSpace && any) norm[n++] = 0x20;
      pendingSpace = false;
      any = true;
      n = writeUtf8(norm, n, cls === WIDE ? cp - 0xfee0 : cp);
    }
    this.n = n;
    this.m = m;
    this.pendingSpace = pendingSpace;
    this.any = any;
    this.tokens = tokens;
    this.run = run;
    this.words = words;
    this.inWord = inWord;
    checked(r, chars, blank, escaped, canonical);
    return true;
  }
}

/** Fills a field's range as checkString would have: it was read to its end. */
function checked(r: FieldRange, chars: number, blank: boolean, escaped: boolean, canonical: boolean) {
  r.chars = chars;
  r.blank = blank;
  r.escaped = escaped;
  r.canonical = canonical;
  r.checked = true;
}

/** The code unit of the `\uXXXX` escape at `i`, or -1 when its four digits are not hex. */
function unicodeEscape(b: Buffer, i: number): number {
  let cp = 0;
  for (let k = 2; k < 6; k++) {
    const h = hex(b[i + k] ?? 0);
    if (h < 0) return -1;
    cp = cp * 16 + h;
  }
  return cp;
}

/** Whether the hex digits of the `\uXXXX` escape at `i` are in lower case, as JSON.stringify writes them. */
function lowerHex(b: Buffer, i: number): boolean {
  for (let k = 2; k < 6; k++) if (b[i + k]! >= 0x41 && b[i + k]! <= 0x46) return false;
  return true;
}

const hex = (c: number) =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;

/** Writes the code point `cp` (below 0x10000) as UTF-8 at `o`: the new end. */
function writeUtf8(out: Buffer, o: number, cp: number): number {
  if (cp < 0x80) {
    out[o] = cp;
    return o + 1;
  }
  if (cp < 0x800) {
    out[o] = 0xc0 | (cp >> 6);
    out[o + 1] = 0x80 | (cp & 0x3f);
    return o + 2;
  }
  out[o] = 0xe0 | (cp >> 12);
  out[o + 1] = 0x80 | ((cp >> 6) & 0x3f);
  out[o + 2] = 0x80 | (cp & 0x3f);
  return o + 3;
}
