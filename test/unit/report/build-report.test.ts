import { RunConfig } from '../../../shared/config/run-config';
import { buildReport, clip, EMULATED_ANSWERS } from '../../../shared/report/build-report';
import { ArtifactError, readJsonArtifact, SplitManifest, type EvaluationSample } from '../../../shared/artifacts';
import { scoreTable } from '../../../shared/evaluation/scores';
import { estimateJudgeCost } from '../../../shared/evaluation/judge';
import { scoredSample } from '../../helpers/evaluation';
import { finishedRun, reportFixture, reportInputs, type ReportFixture } from './report-fixture';

const chartsOf = (html: string) =>
  [...html.matchAll(/<figure class="chart" data-chart="([a-z]+)"><svg[^>]*>/g)].map((m) => m[1]);

let fixture: ReportFixture;
beforeAll(async () => {
  fixture = await reportFixture();
});

describe('buildReport', () => {
  it('draws every chart of a finished run into one self-contained page', () => {
    const { html } = buildReport(reportInputs(fixture));
    expect(chartsOf(html)).toEqual(['funnel', 'reasons', 'categories', 'lengths', 'loss']);
    // self-contained: nothing to fetch (the only URLs are SVG namespaces)
    expect(html.replace(/xmlns(:xlink)?="http:\/\/www\.w3\.org\/[^"]+"/g, '')).not.toMatch(
      /(src|href)\s*=\s*["']?(https?:)?\/\//i,
    );
    expect(html).not.toMatch(/<link|<img|@import/i);
  });

  it('shows the funnel with every reason split wrote, the limit, hyperparameters, cost, losses and samples', () => {
    const { html, markdown } = buildReport(reportInputs(fixture));
    for (const text of [
      'filtered:too_long_chars',
      'filtered:duplicate',
      'rejected:not_json',
      'rejected:missing_field',
      'limit 300',
      'epochCount',
      '$3.46',
      'budget $50.00',
      '日本の首都は？',
    ]) {
      expect(html).toContain(text);
    }
    expect(html).toContain(
      'input records: 72 = kept 60 + filtered 10 + rejected 2; 5 kept records were not sampled into any set',
    );
    expect(html).toContain('input records dropped, by reason: 12 of 72');
    // every chart's caption says which records it counts, and the chart counts those
    expect(html).toContain(
      'prompt + completion length in characters of the 55 records in the training, validation and test sets and the 6 ' +
        'dropped for their length; limit 300 (dashed), 6 records at or past it',
    );
    expect(html).toContain(
      '60 eligible (kept, distinct) records in 5 categories; each bar stacks its training, validation and test records ' +
        '(55 in all) and those not sampled into any set',
    );
    expect(html).toMatch(/<text[^>]*>not sampled<\/text>/);
    expect(markdown).toContain('| training | 40 | 55.6% |');
    expect(markdown).toContain('| filtered:too_long_chars | filtered | 6 | 8.3% |');
    expect(markdown).toContain('| 300–600 (over the limit) | 6 |');
    expect(markdown).toContain('| summarization | 12 | 20.0% |');
    expect(markdown).toContain('Estimated cost: $3.46 (budget $50.00).');
    expect(markdown).toContain(
      '40 training steps, 2 validation points; final training loss 0.61, validation loss 0.74.',
    );
  });

  it('names what serves the model: its throughput, or its custom model deployment', () => {
    const arn = 'arn:aws:bedrock:us-east-1:000000000000:custom-model-deployment/abcdefghij12';
    const run = { ...fixture.run, provisionedModelArn: undefined, deploymentArn: arn };
    const { html, markdown } = buildReport(reportInputs(fixture, { run }));
    expect(markdown).toContain(`| deployment | ${arn} |`);
    expect(markdown).not.toContain('| throughput |');
    expect(html).toContain(arn);
  });

  it('takes the counts from the manifest when the run has none', () => {
    const { markdown } = buildReport(reportInputs(fixture, { run: finishedRun({ config: fixture.run.config }) }));
    expect(markdown).toContain('| kept by filters | 60 | 83.3% |');
  });

  it('escapes what comes from the data', () => {
    const { html } = buildReport(
      reportInputs(fixture, {
        run: finishedRun({ ...fixture.run, runId: 'r<script>', warnings: ['<img src=x onerror=alert(1)>'] }),
      }),
    );
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('r<script>');
    expect(html).toContain('&lt;img src=x');
    expect(html).not.toContain('brainstorming <b>');
  });

  it('reports a run that has only just started, saying what is not there yet', () => {
    const run = finishedRun({
      status: 'preparing',
      stages: [{ prepare: { status: 'running' }, jobs: [] }],
      modelArn: undefined,
    });
    const { html, markdown } = buildReport({ run, generatedAt: '2025-06-01T12:00:00.000Z' });
    expect(chartsOf(html)).toEqual([]);
    expect(html).toContain('No record counts yet');
    expect(html).toContain('not estimated yet');
    expect(markdown).toContain('_No record counts yet._');
  });
});

describe('the manifest, read through its schema', () => {
  const key = 'runs/r/manifest.json';
  it('reads what split wrote', () => {
    expect(readJsonArtifact(SplitManifest, fixture.manifestText, key)).toEqual(fixture.manifest);
  });
  it('refuses another shape, naming the key and the field', () => {
    const old = JSON.stringify({
      ...fixture.manifest,
      byCategory: undefined,
      categories: fixture.manifest.byCategory.eligible,
    });
    expect(() => readJsonArtifact(SplitManifest, old, key)).toThrow(ArtifactError);
    expect(() => readJsonArtifact(SplitManifest, old, key)).toThrow(
      /^runs\/r\/manifest\.json does not match its schema: byCategory: /,
    );
    const unknownReason = JSON.stringify({
      ...fixture.manifest,
      counts: { ...fixture.manifest.counts, byReason: { 'filtered:too_long': 1 } },
    });
    expect(() => readJsonArtifact(SplitManifest, unknownReason, key)).toThrow(/counts\.byReason/);
    expect(() => readJsonArtifact(SplitManifest, '{"schemaVersion": 1', key)).toThrow(
      /^runs\/r\/manifest\.json is not JSON/,
    );
  });
});

describe('a chained run', () => {
  it("gets a table of its stages: each one's data, records, models and loss; a single-stage run gets none", () => {
    const config = RunConfig.parse({
      stages: [
        { customizationType: 'CONTINUED_PRE_TRAINING', prep: { template: { kind: 'text' } } },
        { dataset: { key: 'inputs/dolly.jsonl' }, customizationType: 'FINE_TUNING' },
      ],
    });
    const run = finishedRun({
      config,
      stages: [
        {
          prepare: fixture.run.stages[0]!.prepare,
          jobs: [
            { status: 'done', attempt: 1, modelArn: 'arn:cpt-a', trainingLoss: 2.5 },
            { status: 'done', attempt: 1, modelArn: 'arn:cpt-b', trainingLoss: 2.1 },
          ],
        },
        {
          prepare: {
            status: 'done',
            counts: {
              input: 15015,
              kept: 14598,
              filtered: 417,
              rejected: 0,
              byReason: {},
              train: 400,
              validation: 40,
              test: 10,
            },
          },
          jobs: [{ status: 'done', attempt: 1, modelArn: 'arn:ft', trainingLoss: 0.61 }],
        },
      ],
    });
    const { html, markdown } = buildReport({ ...reportInputs(fixture), run });
    expect(html).toContain('<h2>Stages</h2>');
    expect(markdown).toContain(
      '| 0 | CONTINUED_PRE_TRAINING | s3://btp-datasets/datasets/dolly-ja.jsonl | 72 pieces | 60 | 40 / 10 / 5 | arn:cpt-a, arn:cpt-b | 2.1 |',
    );
    expect(markdown).toContain(
      '| 1 | FINE_TUNING | s3://btp-datasets/inputs/dolly.jsonl | 15,015 | 14,598 | 400 / 40 / 10 | arn:ft | 0.61 |',
    );
    // the header and the labels say what the run and its counts are: stage 0 cut documents into pieces
    expect(markdown).toContain('| customization | CONTINUED_PRE_TRAINING → FINE_TUNING (a chained run of 2 stages) |');
    expect(markdown).toContain('| input pieces | 72 | 100.0% |');
    expect(html).toContain('input pieces: 72 = kept 60');
    expect(markdown).not.toContain('| input records |');
    expect(buildReport(reportInputs(fixture)).markdown).not.toContain('## Stages');
  });
});

describe('the comparison section', () => {
  const line = scoredSample;
  const evaluated = (runId: string, lines: EvaluationSample[], decision: 'keep' | 'delete') => {
    const t = scoreTable(lines);
    return {
      run: finishedRun({
        runId,
        evaluation: {
          status: 'done',
          attempts: 1,
          result: {
            samplesKey: `runs/${runId}/evaluation/samples.jsonl`,
            samples: lines.length,
            failed: 0,
            scores: { overall: t.overall, byCategory: t.byCategory },
            heldOut: {
              testKey: `runs/${runId}/stages/0/prepared/test.jsonl`,
              checked: lines.length,
              against: [{ key: `runs/${runId}/stages/0/prepared/train.jsonl`, records: 100 }],
              overlapping: 0,
              overlappingIndexes: [],
            },
          },
        },
        gate: {
          decision,
          reasons: [decision === 'keep' ? 'Japanese answers 1 >= 0.900' : 'Japanese answers 0 < 0.900'],
          decidedAt: '2026-01-01T00:00:00.000Z',
        },
      }),
      label: runId,
      samples: lines,
    };
  };

  it('tables and charts the scores of each run by category, and puts their answers to the same prompts side by side', () => {
    const a = evaluated(
      'r-ep1',
      [
        line('日本の首都は？', '東京です。', '東京です。', 'open_qa'),
        line('山を3つ挙げて', '富士山、北岳、槍ヶ岳', '富士山、北岳', 'brainstorming'),
      ],
      'keep',
    );
    const b = evaluated(
      'r-ep5',
      [
        line('日本の首都は？', '東京です。', 'Tokyo.', 'open_qa'),
        line('山を3つ挙げて', '富士山、北岳、槍ヶ岳', 'Fuji', 'brainstorming'),
      ],
      'delete',
    );
    const { html, markdown } = buildReport(reportInputs(fixture, { comparison: [a, b] }));
    expect(chartsOf(html)).toEqual(['funnel', 'reasons', 'categories', 'lengths', 'loss', 'japanese', 'overlap']);
    expect(markdown).toContain('| r-ep1 | open_qa | 1 | 1 | 1.00 | 5 | 1.00 | 0 | – | 100.0 |');
    expect(markdown).toContain('| r-ep5 | brainstorming | 1 | 1 | 0.00 | 4 | 0.40 | 0 | 0/1 | 0.0 |');
    expect(markdown).toContain('r-ep5: the gate says delete (Japanese answers 0 < 0.900).');
    expect(markdown).toContain(
      'r-ep1: 2 test prompts looked for in runs/r-ep1/stages/0/prepared/train.jsonl (100 records): 0 found there.',
    );
    expect(markdown).toContain('| prompt | reference | r-ep1 | r-ep5 |');
    expect(markdown).toContain('| 日本の首都は？ | 東京です。 | 東京です。 | Tokyo. |');
    expect(html).toContain('<h2>Answers side by side</h2>');
  });

  it("adds the base model's rows, and says plainly when the answers came from the Bedrock emulator", () => {
    const a = evaluated('r-var', [line('日本の首都は？', '東京です。', '東京です。', 'open_qa')], 'keep');
    const base = scoreTable([line('日本の首都は？', '東京です。', 'わかりません。', 'open_qa')]);
    const result = a.run.evaluation!.result!;
    a.run.evaluation!.result = {
      ...result,
      emulated: 'Bedrock emulator: no model ran',
      base: {
        modelId: 'amazon.nova-micro-v1:0',
        scoresKey: 'runs/x/evaluation/base/d/scores.json',
        overall: base.overall,
        byCategory: base.byCategory,
      },
    };
    const { html, markdown } = buildReport(reportInputs(fixture, { comparison: [a] }));
    expect(markdown).toContain('| base model amazon.nova-micro-v1:0 | all | 1 | 1 | 1.00 |');
    expect(markdown).toContain('| base model amazon.nova-micro-v1:0 | open_qa | 1 | 1 | 1.00 |');
    expect(markdown).toContain(`**${EMULATED_ANSWERS}**`);
    expect(html).toContain('not from a trained model: no model was trained or ran');
    // a real model's answers carry no such note
    const real = evaluated('r-real', [line('日本の首都は？', '東京です。', '東京です。', 'open_qa')], 'keep');
    expect(buildReport(reportInputs(fixture, { comparison: [real] })).markdown).not.toContain(EMULATED_ANSWERS);
  });

  it('says how many answers had no reference to be scored against', () => {
    const a = evaluated(
      'r-file',
      [line('首都は？', '東京です。', '東京です。', 'open_qa'), line('5つ挙げて', '', '1. 山', 'brainstorming')],
      'keep',
    );
    const { markdown } = buildReport(reportInputs(fixture, { comparison: [a] }));
    expect(markdown).toMatch(
      /r-file\S*: 1 answer\(s\) to prompts without a reference .* are not in chrF or len\/ref\./,
    );
  });

  it("adds the judge's mean grades and its cost estimate, and says when they are the emulator's rule", () => {
    const graded = (l: EvaluationSample, correctness: number, japanese: number): EvaluationSample => ({
      ...l,
      judge: { status: 'graded', correctness, japanese },
    });
    const a = evaluated(
      'r-judged',
      [
        graded(line('首都は？', '東京です。', '東京です。', 'open_qa'), 5, 5),
        graded(line('5つ挙げて', '山、川', 'Mountains', 'brainstorming'), 2, 1),
      ],
      'keep',
    );
    a.run.evaluation!.result!.judge = {
      modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
      estimate: estimateJudgeCost({
        modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
        prompts: ['a', 'b'],
        maxTokens: 64,
      }),
      calls: 2,
      emulated: 'Bedrock emulator: no model ran; the grades are the judge rule',
    };
    const { markdown } = buildReport(reportInputs(fixture, { comparison: [a] }));
    expect(markdown).toContain('| chrF | judge correctness | judge Japanese |');
    expect(markdown).toMatch(/\| r-judged \| all \| 2 \| 2 \|.*\| 3\.50 \| 3\.00 \|/);
    expect(markdown).toMatch(/\| r-judged \| open_qa \|.*\| 5\.00 \| 5\.00 \|/);
    expect(markdown).toMatch(
      /judge anthropic\.claude-3-haiku-20240307-v1:0 on r-judged: 2 of 2 answers graded; estimated 2 answer\(s\)/,
    );
    expect(markdown).toContain("a deterministic rule, not a model's opinion");
    // without a judge, no such columns
    const plain = evaluated('r-plain', [line('首都は？', '東京です。', '東京です。', 'open_qa')], 'keep');
    expect(buildReport(reportInputs(fixture, { comparison: [plain] })).markdown).not.toContain('judge');
  });

  it('shows one run scores without answers side by side', () => {
    const a = evaluated('r-one', [line('日本の首都は？', '東京です。', '東京です。', 'open_qa')], 'keep');
    const { html } = buildReport(reportInputs(fixture, { comparison: [a] }));
    expect(html).toContain('<h2>Evaluation scores</h2>');
    expect(html).not.toContain('Answers side by side');
  });
});

describe('clip', () => {
  it('counts code points, so an astral character is never cut in half', () => {
    expect(clip('𠮷野家で𩸽を食べる', 3)).toBe('𠮷野家…');
    expect(clip('𠮷野家', 3)).toBe('𠮷野家');
    expect(clip('abc', 5)).toBe('abc');
  });
});
