import { runPipeline } from '../../helpers/prep/pipeline';

/** Every failure of the data preparation says what to change, naming the setting (issue: failures that hide cause). */
describe('hints on failed data preparation', () => {
  it('a corpus of documents with the default (dolly) template: the hint names the text template', async () => {
    // given Wikipedia-like documents ({title, text}) and no configuration
    const docs = Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: i, title: `記事${i}`, text: `本文${i}。` }));
    const r = await runPipeline(docs.join('\n') + '\n', 'datasets/jawiki.jsonl');

    // then the run fails at the split with the counts' cause turned into what to change
    expect(r.run?.status).toBe('failed');
    expect(r.run?.failure?.reason).toMatch(/only 0 eligible records/);
    expect(r.run?.failure?.hint).toMatch(/40 of 40 records were dropped as rejected:missing_field/);
    expect(r.run?.failure?.hint).toMatch(
      /"instruction" and "output" \(prep\.template\.instructionField, outputField\)/,
    );
    expect(r.run?.failure?.hint).toMatch(/set prep\.template\.kind to "text"/);
  });

  it('a CSV with Japanese headers: the reason names the missing column, the hint the setting that maps it', async () => {
    const csv = '指示,回答\n' + Array.from({ length: 5 }, (_, i) => `質問${i},答え${i}`).join('\n') + '\n';
    const r = await runPipeline(csv, 'datasets/ja-headers.csv');
    expect(r.run?.status).toBe('failed');
    expect(r.run?.failure?.reason).toMatch(
      /column "instruction" \(prep\.template\.instructionField\) is not in the file/,
    );
    expect(r.run?.failure?.hint).toMatch(
      /^set prep\.template\.instructionField to the column that holds it \(one of: 指示, 回答\)/,
    );
  });

  it('records over the length limit: the hint names prep.filters.maxChars', async () => {
    const long = (i: number) => JSON.stringify({ instruction: `問${i}`, input: '', output: 'あ'.repeat(2000) });
    const r = await runPipeline(Array.from({ length: 10 }, (_, i) => long(i)).join('\n') + '\n', 'datasets/long.jsonl');
    expect(r.run?.status).toBe('failed');
    expect(r.run?.failure?.hint).toMatch(/raise prep\.filters\.maxChars \(now 1500\)/);
  });

  it('a file that is not UTF-8: the hint names prep.encoding', async () => {
    const sjis = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x82, 0xa0, 0x22, 0x7d, 0x0a]);
    const r = await runPipeline(sjis, 'datasets/sjis.jsonl');
    expect(r.run?.status).toBe('failed');
    expect(r.run?.failure?.hint).toMatch(/set prep\.encoding/);
  });
});
