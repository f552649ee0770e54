import { resolveRunConfig } from '../../../shared/config/run-config';
import { ChunkProcessor, parseMetaBytes, type KeptMeta, type SourceRecord } from '../../../shared/prep/records';
import { resolveRecordRules } from '../../../shared/prep/rules';
import { applyTemplate, splitSentences } from '../../../shared/prep/template';
import { codePointLength, contentKey } from '../../../shared/prep/text';
import { countsBalance } from '../../../shared/prep/counts';

const process = (values: unknown[], config: Record<string, unknown> = {}) => {
  const kept: Array<{ meta: KeptMeta; record: string }> = [];
  const rejects: Array<Record<string, unknown>> = [];
  const p = new ChunkProcessor(resolveRecordRules(resolveRunConfig(config)), {
    kept: (meta, record) => kept.push({ meta: JSON.parse(meta) as KeptMeta, record: record.toString('utf8') }),
    reject: (l) => rejects.push(JSON.parse(l) as Record<string, unknown>),
  });
  values.forEach((value, i) => p.handle({ pos: i * 100, line: i + 1, value, raw: JSON.stringify(value) } as SourceRecord));
  return { kept, rejects, counts: p.counts };
};

describe('characters are counted in Unicode code points', () => {
  it('agrees with [...s].length, not s.length, on characters outside the BMP', () => {
    for (const s of ['', 'abc', '𠮷野家', '😀😀', 'a\uD800b', '\uDC00', 'ｶﾀｶﾅ']) expect(codePointLength(s)).toBe([...s].length);
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
    expect(applyTemplate({ instruction: 'Q', input: '', output: 'A' }, t)).toEqual({ kind: 'pair', prompt: 'Q', completion: 'A' });
  });
  it('prefixes the instruction and appends the knowledge when there is an input', () => {
    expect(applyTemplate({ instruction: 'Q', input: 'K', output: 'A' }, t)).toEqual({ kind: 'pair', prompt: '入力:Q\n知識:K', completion: 'A' });
  });
  it('names the missing or mistyped field', () => {
    expect(applyTemplate({ input: '', output: 'A' }, t)).toMatchObject({ reason: 'rejected:missing_field', field: 'instruction' });
    expect(applyTemplate({ instruction: ['x'], output: 'A' }, t)).toMatchObject({ reason: 'rejected:wrong_type', field: 'instruction' });
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
      input: 4, kept: 1, filtered: 3, rejected: 0,
      byReason: { 'filtered:duplicate': 1, 'filtered:empty': 1, 'filtered:too_many_tokens': 1 },
    });
  });

  it('applies the base model token limit from the catalog (Titan Lite: 4,096 at batch size 1)', () => {
    const rules = resolveRecordRules(resolveRunConfig({ prep: { filters: { maxChars: 100_000 } } }));
    expect(rules.tokenLimit?.maxTokens).toBe(4096);
    const { rejects } = process([{ instruction: 'Q', input: '', output: 'あ'.repeat(4100) }], { prep: { filters: { maxChars: 100_000 } } });
    expect(rejects[0]).toMatchObject({ reason: 'filtered:too_many_tokens' });
    expect(String(rejects[0]!.detail)).toContain('exceeds total limit of 4096');
  });

  it('writes the conversation format for models that train on it', () => {
    const { kept } = process([{ instruction: 'Q', input: '', output: 'A' }], { training: { baseModelId: 'amazon.nova-micro-v1:0:128k' } });
    expect(JSON.parse(kept[0]!.record)).toMatchObject({
      schemaVersion: 'bedrock-conversation-2024',
      messages: [{ role: 'user', content: [{ text: 'Q' }] }, { role: 'assistant', content: [{ text: 'A' }] }],
    });
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
    const config = { prep: { template: { kind: 'text' }, filters: { maxChars: 12 } }, training: { customizationType: 'CONTINUED_PRE_TRAINING' } };
    const { kept, counts } = process([{ text: 'これは文です。これも文です。とてもとてもとても長すぎる文です。' }, { text: '' }], config);
    expect(kept.map((k) => JSON.parse(k.record))).toEqual([{ input: 'これは文です。' }, { input: 'これも文です。' }]);
    expect(counts.byReason['filtered:sentence_too_long']).toBe(1);
    expect(counts.byReason['filtered:empty']).toBe(1);
    expect(countsBalance(counts)).toBe(true);
  });
});

describe('kept lines', () => {
  it('metadata read from its bytes is what JSON.parse gives, whatever the category holds', () => {
    const categories = ['open_qa', 'カテゴリ', 'say "hi"', 'back\\slash', 'tab\tnew\nline', '\uD800 lone', '𠮷', ''];
    const { kept } = process(categories.map((category, i) => ({ instruction: `q${i}`, input: '', output: 'a', category })));
    expect(kept).toHaveLength(categories.length);
    for (const k of kept) expect(parseMetaBytes(Buffer.from(JSON.stringify(k.meta)))).toEqual(k.meta);
    expect(kept.map((k) => parseMetaBytes(Buffer.from(JSON.stringify(k.meta))).c)).toEqual(categories);
    expect(kept.map((k) => JSON.parse(k.record))).toEqual(categories.map((_, i) => ({ prompt: `q${i}`, completion: 'a' })));
  });
});
