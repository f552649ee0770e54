import { resolveRunConfig } from '../../../shared/config/run-config';
import { ChunkProcessor, parseMetaBytes, type SourceRecord } from '../../../shared/prep/records';
import { KeptMeta } from '../../../shared/artifacts/line-formats';
import { resolveRecordRules } from '../../../shared/prep/rules';
import { applyTemplate, splitSentences } from '../../../shared/prep/template';
import { codePointLength, contentKey } from '../../../shared/prep/text';
import { countsBalance } from '../../../shared/prep/counts';
import { TITAN_2024 } from '../../helpers/orchestration/fakes';

/** The 2024 recipe's Titan Text G1 - Lite (prompt/completion records), for tests about that layout or its limits. */
const titan = (config: Record<string, unknown> = {}) => resolveRunConfig(TITAN_2024, config);

const process = (values: unknown[], config: Record<string, unknown> = {}) => {
  const kept: Array<{ meta: KeptMeta; record: string }> = [];
  const rejects: Array<Record<string, unknown>> = [];
  const p = new ChunkProcessor(resolveRecordRules(resolveRunConfig(config)), {
    kept: (meta, record) => kept.push({ meta: KeptMeta.parse(JSON.parse(meta)), record: record.toString('utf8') }),
    reject: (l) => rejects.push(JSON.parse(l) as Record<string, unknown>),
  });
  values.forEach((value, i) =>
    p.handle({ pos: i * 100, line: i + 1, value, raw: JSON.stringify(value) } as SourceRecord),
  );
  return { kept, rejects, counts: p.counts };
};

/** The same records offered to the byte path first (json-bytes-path.ts), as transform reads JSON Lines. */
const byBytes = (config: Record<string, unknown>, values: unknown[]) => {
  const kept: Array<{ meta: KeptMeta; record: string }> = [];
  const rejects: Array<Record<string, unknown>> = [];
  const p = new ChunkProcessor(resolveRecordRules(resolveRunConfig(config)), {
    kept: (meta, record) => kept.push({ meta: KeptMeta.parse(JSON.parse(meta)), record: record.toString('utf8') }),
    reject: (l) => rejects.push(JSON.parse(l) as Record<string, unknown>),
  });
  values.forEach((v, i) => {
    const raw = JSON.stringify(v);
    if (!p.handleJsonBytes(Buffer.from(raw), i * 100, i + 1, undefined))
      p.handle({ pos: i * 100, line: i + 1, value: v, raw } as SourceRecord);
  });
  return { kept, rejects, counts: p.counts };
};

describe('characters are counted in Unicode code points', () => {
  it('agrees with [...s].length, not s.length, on characters outside the BMP', () => {
    for (const s of ['', 'abc', '𠮷野家', '😀😀', 'a\uD800b', '\uDC00', 'ｶﾀｶﾅ'])
      expect(codePointLength(s)).toBe([...s].length);
    expect('𠮷'.length).toBe(2);
    expect(codePointLength('𠮷')).toBe(1);
  });

  it('keeps a record of exactly 1,500 code points holding a non-BMP character, and drops one of 1,501', () => {
    const at = (n: number) => ({ instruction: '𠮷' + 'あ'.repeat(n - 1 - 10), input: '', output: 'い'.repeat(10) });
    expect(at(1500).instruction.length + 10).toBe(1501); // UTF-16 units: over the limit if counted wrongly
    const { kept, rejects, counts } = process([at(1500), at(1501)]);
    expect(kept).toHaveLength(1);
    expect(kept[0]!.meta.n).toBe(1500);
    expect(rejects[0]).toMatchObject({ reason: 'filtered:too_long_chars', line: 2 });
    expect(String(rejects[0]!.detail)).toContain('1501 characters');
    expect(countsBalance(counts)).toBe(true);
  });
});

describe('the seed recipe template', () => {
  const t = resolveRunConfig().prep.template;
  it('uses the instruction alone when the input is empty', () => {
    expect(applyTemplate({ instruction: 'Q', input: '', output: 'A' }, t)).toEqual({
      kind: 'pair',
      prompt: 'Q',
      completion: 'A',
    });
  });
  it('prefixes the instruction and appends the knowledge when there is an input', () => {
    expect(applyTemplate({ instruction: 'Q', input: 'K', output: 'A' }, t)).toEqual({
      kind: 'pair',
      prompt: '入力:Q\n知識:K',
      completion: 'A',
    });
  });
  it('names the missing or mistyped field', () => {
    expect(applyTemplate({ input: '', output: 'A' }, t)).toMatchObject({
      reason: 'rejected:missing_field',
      field: 'instruction',
    });
    expect(applyTemplate({ instruction: ['x'], output: 'A' }, t)).toMatchObject({
      reason: 'rejected:wrong_type',
      field: 'instruction',
    });
    expect(applyTemplate([1, 2], t)).toMatchObject({ reason: 'rejected:not_object' });
  });
});

describe('filters, each with its reason, and counts that add up', () => {
  it('drops empty fields, duplicates after NFKC and whitespace normalisation, and token overruns', () => {
    const { kept, rejects, counts } = process(
      [
        { instruction: 'Ｑ１  question', input: '', output: 'answer' },
        { instruction: 'Q1 question', input: '', output: ' answer ' },
        { instruction: 'Q2', input: '', output: '' },
        { instruction: 'Q3', input: '', output: 'あ'.repeat(60) },
      ],
      { prep: { filters: { maxTokens: 50 } } },
    );
    expect(kept).toHaveLength(1);
    expect(rejects.map((r) => r.reason)).toEqual(['filtered:duplicate', 'filtered:empty', 'filtered:too_many_tokens']);
    expect(rejects[0]!.detail).toBe('same text as line 1');
    expect(counts).toEqual({
      input: 4,
      kept: 1,
      filtered: 3,
      rejected: 0,
      byReason: { 'filtered:duplicate': 1, 'filtered:empty': 1, 'filtered:too_many_tokens': 1 },
    });
  });

  it('applies the base model token limit from the catalog (Titan Lite: 4,096 at batch size 1)', () => {
    const rules = resolveRecordRules(titan({ prep: { filters: { maxChars: 100_000 } } }));
    expect(rules.tokenLimit?.maxTokens).toBe(4096);
    const { rejects } = process(
      [{ instruction: 'Q', input: '', output: 'あ'.repeat(4100) }],
      titan({ prep: { filters: { maxChars: 100_000 } } }),
    );
    expect(rejects[0]).toMatchObject({ reason: 'filtered:too_many_tokens' });
    expect(String(rejects[0]!.detail)).toContain('exceeds total limit of 4096');
  });

  it('writes the conversation format for models that train on it', () => {
    const { kept } = process([{ instruction: 'Q', input: '', output: 'A' }], {
      training: { baseModelId: 'amazon.nova-micro-v1:0:128k' },
    });
    expect(JSON.parse(kept[0]!.record)).toMatchObject({
      schemaVersion: 'bedrock-conversation-2024',
      messages: [
        { role: 'user', content: [{ text: 'Q' }] },
        { role: 'assistant', content: [{ text: 'A' }] },
      ],
    });
  });

  it("drops a prompt holding one of Nova's reserved keywords, on either path, and keeps it for Titan", () => {
    const values = [
      { instruction: 'User: 次の文を要約して', input: '', output: '要約です。' },
      { instruction: '要約して', input: 'Bot: こんにちは', output: '挨拶です。' },
      { instruction: '普通の質問', input: '', output: 'Assistant: と答える' }, // only the prompt is checked
      { instruction: '画像 <image> を説明して', input: '', output: '説明です。' },
    ];
    const nova = resolveRunConfig(); // the default: Nova Micro
    expect(resolveRecordRules(nova).reservedWords).toEqual(expect.arrayContaining(['User:', 'Bot:', '[EOS]']));
    const parsed = process(values, nova);
    const bytes = byBytes(nova, values);
    for (const r of [parsed, bytes]) {
      expect(r.rejects.map((x) => [x.reason, x.line])).toEqual([
        ['filtered:reserved_word', 1],
        ['filtered:reserved_word', 2],
        ['filtered:reserved_word', 4],
      ]);
      expect(String(r.rejects[1]!.detail)).toContain('"Bot:"');
      expect(r.kept).toHaveLength(1);
      expect(r.counts.byReason['filtered:reserved_word']).toBe(3);
      expect(countsBalance(r.counts)).toBe(true);
    }
    expect(bytes.rejects).toEqual(parsed.rejects);
    expect(bytes.kept).toEqual(parsed.kept);
    expect(process(values, titan()).kept).toHaveLength(4);
  });

  it('gives duplicates one content key whatever their width and spacing', () => {
    expect(contentKey(['ＡＢＣ　１', 'x'])).toBe(contentKey(['ABC 1', ' x\n']));
    expect(contentKey(['a', 'bc'])).not.toBe(contentKey(['ab', 'c']));
  });
});

describe('continued pre-training documents', () => {
  it('are cut between sentences, never inside one, and a sentence too long alone is dropped with its reason', () => {
    const fits = (s: string) => codePointLength(s) <= 10;
    const { pieces, tooLong } = splitSentences('あいう。えおか！きくけこさしすせそたちつてと。なに？\nぬね', fits);
    expect(pieces).toEqual(['あいう。えおか！', 'なに？\nぬね']);
    expect(tooLong).toEqual(['きくけこさしすせそたちつてと。']);
    for (const p of pieces) expect(fits(p)).toBe(true);
  });

  it('counts each piece as a record, so input = kept + filtered + rejected', () => {
    const config = {
      prep: { template: { kind: 'text' }, filters: { maxChars: 12 } },
      training: { customizationType: 'CONTINUED_PRE_TRAINING' },
    };
    const { kept, counts } = process(
      [{ text: 'これは文です。これも文です。とてもとてもとても長すぎる文です。' }, { text: '' }],
      config,
    );
    expect(kept.map((k) => JSON.parse(k.record))).toEqual([{ input: 'これは文です。' }, { input: 'これも文です。' }]);
    expect(counts.byReason['filtered:sentence_too_long']).toBe(1);
    expect(counts.byReason['filtered:empty']).toBe(1);
    expect(countsBalance(counts)).toBe(true);
  });
});

describe('kept lines', () => {
  it('metadata read from its bytes is what JSON.parse gives, whatever the category holds', () => {
    const categories = ['open_qa', 'カテゴリ', 'say "hi"', 'back\\slash', 'tab\tnew\nline', '\uD800 lone', '𠮷', ''];
    const { kept } = process(
      categories.map((category, i) => ({ instruction: `q${i}`, input: '', output: 'a', category })),
      titan(),
    );
    expect(kept).toHaveLength(categories.length);
    for (const k of kept) expect(parseMetaBytes(Buffer.from(JSON.stringify(k.meta)))).toEqual(k.meta);
    expect(kept.map((k) => parseMetaBytes(Buffer.from(JSON.stringify(k.meta))).c)).toEqual(categories);
    expect(kept.map((k) => JSON.parse(k.record))).toEqual(
      categories.map((_, i) => ({ prompt: `q${i}`, completion: 'a' })),
    );
  });
});

describe('the byte path and what it remembers across chunks', () => {
  const bytesOf = (value: unknown) => Buffer.from(JSON.stringify(value));
  const run = (config: Record<string, unknown>, values: unknown[], scope?: { run: string; chunk: number }) => {
    const kept: Array<{ meta: KeptMeta; record: string }> = [];
    const rejects: Array<Record<string, unknown>> = [];
    const p = new ChunkProcessor(
      resolveRecordRules(resolveRunConfig(config)),
      {
        kept: (meta, record) => kept.push({ meta: KeptMeta.parse(JSON.parse(meta)), record: record.toString('utf8') }),
        reject: (l) => rejects.push(JSON.parse(l) as Record<string, unknown>),
      },
      scope,
    );
    values.forEach((v, i) => {
      const taken = p.handleJsonBytes(bytesOf(v), i * 100, i + 1, undefined);
      if (!taken) p.handle({ pos: i * 100, line: i + 1, value: v, raw: JSON.stringify(v) });
    });
    return { kept, rejects, counts: p.counts };
  };
  const rec = { instruction: '質問', input: '文脈', output: '答え', category: 'qa' };

  it('renders the same bytes anew for another template, not from what it remembers of the last one', () => {
    const a = run(titan(), [rec]);
    const b = run(titan({ prep: { template: { kind: 'dolly', inputPrefix: 'Q:' } } }), [rec]);
    expect(JSON.parse(a.kept[0]!.record).prompt).toBe('入力:質問\n知識:文脈');
    expect(JSON.parse(b.kept[0]!.record).prompt).toBe('Q:質問\n知識:文脈');
    expect(b.kept[0]!.meta.n).toBe(a.kept[0]!.meta.n - 1); // '入力:' is one code point longer than 'Q:'
  });

  it('gives a remembered record the same outcome as a new one, and drops only what an earlier chunk of the same run kept', () => {
    const other = { ...rec, index: '2' };
    const first = run({}, [rec, other], { run: 'r1', chunk: 0 });
    expect(first.kept).toHaveLength(1);
    // A later chunk of the same run: the text was kept by chunk 0, so it is a duplicate naming chunk 0's line.
    const later = run({}, [other], { run: 'r1', chunk: 3 });
    expect(later.kept).toHaveLength(0);
    expect(later.rejects).toEqual([{ reason: 'filtered:duplicate', detail: 'same text as line 1', line: 1 }]);
    // Chunk 0 again (a redelivery), or another run: kept, the same record and metadata as the first time (bar its
    // place).
    for (const scope of [
      { run: 'r1', chunk: 0 },
      { run: 'r2', chunk: 5 },
    ]) {
      const again = run({}, [other], scope);
      expect(again.kept).toHaveLength(1);
      expect(again.kept[0]!.record).toBe(first.kept[0]!.record);
      expect({ ...again.kept[0]!.meta, l: 0, p: 0 }).toEqual({ ...first.kept[0]!.meta, l: 0, p: 0 });
    }
    expect(countsBalance(later.counts)).toBe(true);
  });

  it('names the place the run knows now when an earlier chunk keeps the text after a later chunk asked', () => {
    const rules = resolveRecordRules(resolveRunConfig({}));
    const processor = (chunk: number) => {
      const rejects: string[] = [];
      const p = new ChunkProcessor(
        rules,
        { kept: () => undefined, reject: (l) => rejects.push(l) },
        { run: 'r-order', chunk, relativeLines: true },
      );
      return { p, rejects };
    };
    const bytes = bytesOf(rec);
    const [c1, c2, c0] = [processor(1), processor(2), processor(0)];
    expect(c1.p.handleJsonBytes(bytes, 0, 4, undefined)).toBe(true); // kept by chunk 1
    c2.p.handleJsonBytes(bytes, 0, 1, undefined);
    // Chunk 0 (delivered late, transformed beside chunk 2) keeps it: the run's first place is now chunk 0's line.
    c0.p.handleJsonBytes(bytes, 0, 7, undefined);
    c2.p.handleJsonBytes(bytes, 100, 2, undefined);
    expect(c2.rejects.map((l) => (JSON.parse(l) as { detail: string }).detail)).toEqual([
      'same text as line 4 of chunk 1',
      'same text as line 7 of chunk 0',
    ]);
    expect(c0.p.counts.kept).toBe(1);
  });

  // A verdict naming an earlier chunk's place is noted for the run's later chunks too (ChunkProcessor.runStamp): it
  // must not outlive a change of that place, nor reach a chunk that kept the text itself.
  const processorOf = (run: string) => (chunk: number) => {
    const rejects: string[] = [];
    const p = new ChunkProcessor(
      resolveRecordRules(resolveRunConfig({})),
      { kept: () => undefined, reject: (l) => rejects.push(l) },
      { run, chunk, relativeLines: true },
    );
    return { p, rejects, details: () => rejects.map((l) => (JSON.parse(l) as { detail: string }).detail) };
  };

  it('names the new place when an earlier chunk keeps the text, read the general way, after a verdict was noted', () => {
    const processor = processorOf('r-noted');
    const bytes = bytesOf(rec);
    const [c1, c2, c0] = [processor(1), processor(2), processor(0)];
    c1.p.handleJsonBytes(bytes, 0, 4, undefined); // kept by chunk 1
    c2.p.handleJsonBytes(bytes, 0, 1, undefined); // a duplicate of chunk 1's line, its verdict noted
    // Chunk 0 keeps the text, parsed (the way a record the byte path does not take goes): the run's place changes.
    c0.p.handle({ pos: 0, line: 7, value: rec, raw: JSON.stringify(rec) });
    c2.p.handleJsonBytes(bytes, 100, 2, undefined);
    expect(c2.details()).toEqual(['same text as line 4 of chunk 1', 'same text as line 7 of chunk 0']);
  });

  it("names a chunk's own line to a chunk that kept the text, though a later-numbered chunk's verdict was noted since", () => {
    const processor = processorOf('r-own');
    const bytes = bytesOf(rec);
    const [c2, c0, c1] = [processor(2), processor(0), processor(1)];
    c2.p.handleJsonBytes(bytes, 0, 4, undefined); // kept by chunk 2, the first to meet it
    c0.p.handleJsonBytes(bytes, 0, 7, undefined); // kept by chunk 0: the run's place is chunk 0's now
    c1.p.handleJsonBytes(bytes, 0, 3, undefined); // a duplicate of chunk 0's line, its verdict noted
    c2.p.handleJsonBytes(bytes, 100, 9, undefined); // in chunk 2, the text was kept at its line 4
    expect(c1.details()).toEqual(['same text as line 7 of chunk 0']);
    expect(c2.details()).toEqual(['same text as line 4']);
  });
});
