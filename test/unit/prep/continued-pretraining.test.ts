import { countsBalance } from '../../../shared/prep/counts';
import { describeWithData, JAWIKI } from '../../helpers/prep/fixtures';
import { runPipeline } from '../../helpers/prep/pipeline';
import { readFileSync } from 'node:fs';
import { runCounts } from '../../../shared/runs/record';

/**
 * Given Japanese Wikipedia text in the `corpus` profile folder, when it is prepared for continued pre-training, then
 * every record is {"input"} under the character limit, cut between sentences and never inside one.
 */
describeWithData(JAWIKI)('continued pre-training on jawiki_corpus', () => {
  it('splits long documents at sentence boundaries into {"input"} records under the limit', async () => {
    const lines = readFileSync(JAWIKI, 'utf8').split('\n').filter(Boolean).slice(0, 400);
    const docs = lines.map((l) => (JSON.parse(l) as { text: string }).text);
    const r = await runPipeline(lines.join('\n') + '\n', 'datasets/corpus/jawiki.jsonl', {
      prep: { filters: { maxChars: 400 }, chunkBytes: 100_000 },
      split: { train: 300, validation: 30, test: 10 },
    });
    expect(r.run?.status).toBe('submitting');
    expect(r.run!.config.training.customizationType).toBe('CONTINUED_PRE_TRAINING');
    const c = runCounts(r.run!)!;
    expect(countsBalance(c)).toBe(true);
    expect(c.input).toBeGreaterThan(docs.length); // documents became several records each
    const all = '\u0000' + docs.join('\u0000') + '\u0000';
    for (const line of [...r.prepared('train'), ...r.prepared('validation'), ...r.prepared('test')]) {
      const rec = JSON.parse(line) as Record<string, string>;
      expect(Object.keys(rec)).toEqual(['input']);
      const piece = rec.input!;
      expect([...piece].length).toBeLessThanOrEqual(400);
      const at = all.indexOf(piece);
      expect(at).toBeGreaterThan(0);
      const after = all[at + piece.length]!;
      // The piece ends at the end of a document, at a newline, or with a sentence end (and its closing bracket).
      expect(after === '\u0000' || /\s/.test(after) || /[。！？!?」』）)]$/.test(piece)).toBe(true);
    }
  });
});
