import { answerText, ENGLISH, type LineageStep } from '../../../local/bedrock/answers';
import { generateCorpusRecords, generateSampleRecords } from '../../../local/sample/generate';

/** The emulator's answer rules (docs/bedrock-emulator.md, "Answers"), on the project's generated samples. */
const records = generateSampleRecords(400).filter((r) => r.output !== '' && [...r.output].length < 300);
const train = records.slice(0, 300).map((r) => ({ prompt: r.instruction, completion: r.output }));
const test = records.slice(300).map((r) => ({ prompt: r.instruction, reference: r.output }));
const corpus = generateCorpusRecords(100).map((d) => ({ prompt: d.text, completion: '' }));

const fineTune = (epochs: number, records = 300): LineageStep => ({
  customizationType: 'FINE_TUNING',
  epochs,
  records,
  samples: train,
});
const pretrain: LineageStep = { customizationType: 'CONTINUED_PRE_TRAINING', epochs: 1, records: 100, samples: corpus };

const answers = (lineage: LineageStep[], max = 4096) => test.map((t) => answerText(lineage, t.prompt, max));
const japanese = (text: string) => /[\u3040-\u30ff\u4e00-\u9fff]/.test(text);
const share = (xs: boolean[]) => xs.filter(Boolean).length / xs.length;
const length = (xs: Array<{ text: string }>) => xs.reduce((n, a) => n + [...a.text].length, 0) / xs.length;
const exactRecall = (lineage: LineageStep[]) => share(answers(lineage).map((a, i) => a.text === test[i]!.reference));

describe('the Bedrock emulator answers by rules, deterministically', () => {
  it('gives the same answer to the same prompt every time', () => {
    expect(answers([fineTune(5)])).toEqual(answers([fineTune(5)]));
  });

  it('answers a training prompt with its completion', () => {
    const a = answerText([fineTune(1)], train[7]!.prompt, 4096);
    expect(a).toMatchObject({ text: train[7]!.completion, matchedPrompt: true, trainingExample: 7 });
  });

  it('recalls the nearest training example more often with more epochs', () => {
    // (on many records, where rule 2 hardly turns an answer into English)
    const one = exactRecall([fineTune(1, 1_000_000)]);
    const five = exactRecall([fineTune(5, 1_000_000)]);
    expect(five).toBeGreaterThan(one);
  });

  it('loses Japanese more often with more epochs on fewer records, and less when pre-trained in Japanese', () => {
    const ja = (lineage: LineageStep[]) => share(answers(lineage).map((a) => japanese(a.text)));
    // (a few completions hold no Japanese at all: the numbers an extraction asks for)
    expect(ja([fineTune(5)])).toBeLessThan(ja([fineTune(1)]));
    expect(answers([fineTune(1)]).some((a) => a.text === ENGLISH)).toBe(false);
    expect(ja([fineTune(5, 100)])).toBeLessThan(ja([fineTune(5, 300)]));
    expect(ja([pretrain, fineTune(5)])).toBeGreaterThan(ja([fineTune(5)]));
    expect(answers([fineTune(5)]).find((a) => !japanese(a.text))!.text).toBe(ENGLISH);
  });

  it('answers at length after pre-training on long documents, and cut at maxTokenCount says so', () => {
    expect(length(answers([pretrain, fineTune(1)]))).toBeGreaterThan(3 * length(answers([fineTune(1)])));
    const cut = answers([pretrain, fineTune(1)], 50).filter((a) => !a.matchedPrompt);
    expect(cut.length).toBeGreaterThan(10);
    expect(cut.every((a) => a.truncated)).toBe(true);
  });

  it('sometimes lists fewer items than asked after pre-training', () => {
    const asked = test.filter((t) => /三つ挙げて/.test(t.prompt));
    expect(asked.length).toBeGreaterThan(3);
    const items = (text: string) => text.split('\n').filter((l) => /^[0-9]+\. /.test(l)).length;
    const plain = asked.map((t) => items(answerText([fineTune(1)], t.prompt, 4096).text));
    const pre = asked.map((t) => items(answerText([pretrain, fineTune(1)], t.prompt, 4096).text));
    expect(plain.filter((n) => n === 3).length).toBeGreaterThan(pre.filter((n) => n === 3).length);
  });
});
