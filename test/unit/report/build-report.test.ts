import { RunConfig } from '../../../shared/config/run-config';
import { buildReport } from '../../../shared/report/build-report';
import { droppedForLength, lengthHistogram, parseMetricsCsv, readEvaluationSamples, readManifest } from '../../../shared/report/inputs';
import { finishedRun, reportInputs } from './report-fixture';

const chartsOf = (html: string) => [...html.matchAll(/<figure class="chart" data-chart="([a-z]+)"><svg[^>]*>/g)].map((m) => m[1]);

describe('buildReport', () => {
  it('draws every chart of a finished run into one self-contained page', () => {
    const { html } = buildReport(reportInputs());
    expect(chartsOf(html)).toEqual(['funnel', 'reasons', 'categories', 'lengths', 'loss']);
    // self-contained: nothing to fetch (the only URLs are SVG namespaces)
    expect(html.replace(/xmlns(:xlink)?="http:\/\/www\.w3\.org\/[^"]+"/g, '')).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<link|<img|@import/i);
  });

  it('shows the funnel with every reason, the limit, hyperparameters, cost, losses and samples', () => {
    const { html, markdown } = buildReport(reportInputs());
    for (const text of ['filtered:too_long', 'filtered:duplicate', 'rejected:bad_json', 'limit 1500', 'epochCount', '$3.46', 'budget $50.00', '日本の首都は？']) {
      expect(html).toContain(text);
    }
    expect(html).toContain('input 1,000 = kept 900 + filtered 80 + rejected 20; 50 kept records were not sampled into any set');
    expect(html).toContain('50 records at or past it');
    expect(markdown).toContain('| training | 700 | 70.0% |');
    expect(markdown).toContain('| filtered:too_long | filtered | 50 | 5.0% |');
    expect(markdown).toContain('| 1500–3000 (over the limit) | 50 |');
    expect(markdown).toContain('Estimated cost: $3.46 (budget $50.00).');
    expect(markdown).toContain('40 training steps, 2 validation points; final training loss 0.61, validation loss 0.74.');
  });

  it('escapes what comes from the data', () => {
    const { html } = buildReport(reportInputs({ run: finishedRun({ runId: 'r<script>', warnings: ['<img src=x onerror=alert(1)>'] }) }));
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('r<script>');
    expect(html).toContain('&lt;img src=x');
    expect(html).not.toContain('brainstorming <b>');
  });

  it('reports a run that has only just started, saying what is not there yet', () => {
    const run = finishedRun({ status: 'preparing', counts: undefined, costEstimateUsd: undefined, jobArn: undefined, modelArn: undefined, metrics: undefined });
    const { html, markdown } = buildReport({ run, generatedAt: '2025-06-01T12:00:00.000Z' });
    expect(chartsOf(html)).toEqual([]);
    expect(html).toContain('No record counts yet');
    expect(html).toContain('not estimated yet');
    expect(markdown).toContain('_No record counts yet._');
  });
});

describe('report inputs, read tolerantly', () => {
  it('reads the documented metrics CSV and its variants', () => {
    expect(parseMetricsCsv('step_number,epoch_number,training_loss,perplexity\n0,0,2.5,12.1\n1,0,2.1,8.2\n')).toEqual([
      { step: 0, epoch: 0, loss: 2.5 },
      { step: 1, epoch: 0, loss: 2.1 },
    ]);
    // Nova: no perplexity, steps from 1
    expect(parseMetricsCsv('step_number,epoch_number,training_loss\r\n1,0,1.62\r\n2,0,1.34\r\n')).toEqual([
      { step: 1, epoch: 0, loss: 1.62 },
      { step: 2, epoch: 0, loss: 1.34 },
    ]);
    // unnamed loss: second-to-last column, as AWS's samples read it
    expect(parseMetricsCsv('step,epoch,a,b\n5,1,0.9,2.4\n')).toEqual([{ step: 5, epoch: 1, loss: 0.9 }]);
    expect(parseMetricsCsv('')).toEqual([]);
  });

  it('reads categories and length histograms in the shapes a manifest may use', () => {
    expect(readManifest({ categories: { a: 2, b: 3 } }).byCategory).toEqual({ a: 2, b: 3 });
    expect(readManifest({ byCategory: { train: { a: 2, b: 1 }, validation: { a: 1 } } })).toMatchObject({ byCategory: { a: 3, b: 1 }, byCategoryAndSplit: { a: { train: 2, validation: 1 }, b: { train: 1 } } });
    expect(readManifest({ counts: { byCategory: { a: { train: 2, test: 1 } } } }).byCategory).toEqual({ a: 3 });
    expect(readManifest({ lengths: { edges: [0, 10, 20], counts: [4, 5], maxChars: 15 } }).lengths).toMatchObject({ bins: [{ from: 0, to: 10, count: 4 }, { from: 10, to: 20, count: 5 }], limit: 15 });
    expect(readManifest({ lengthHistogram: [[0, 100, 7]] }).lengths?.bins).toEqual([{ from: 0, to: 100, count: 7 }]);
    expect(readManifest('nonsense')).toEqual({});
    expect(readManifest({ lengths: { histogram: [{ nothing: 1 }] } }).lengths).toBeUndefined();
  });

  it('reads the split step\'s manifest: eligible categories, per-set categories, length statistics', () => {
    const split = {
      counts: { input: 10, kept: 8, filtered: 2, rejected: 0, byReason: { 'filtered:too_long_chars': 2 }, train: 5, validation: 2, test: 1 },
      byCategory: { eligible: { open_qa: 6, summarization: 2 }, train: { open_qa: 4, summarization: 1 }, validation: { open_qa: 2 }, test: { summarization: 1 } },
      lengths: { train: { chars: { count: 5, total: 900, min: 20, max: 400, mean: 180, p50: 150, p95: 390 }, tokens: { count: 5 } } },
    };
    const view = readManifest(split);
    expect(view.byCategory).toEqual({ open_qa: 6, summarization: 2 });
    expect(view.byCategoryAndSplit).toEqual({ open_qa: { train: 4, validation: 2 }, summarization: { train: 1, test: 1 } });
    expect(view.lengths).toBeUndefined();
    expect(view.lengthStats).toEqual({ p50: 150, p95: 390, max: 400 });
  });

  it('counts a length histogram from prepared records, with the records dropped for length past the limit', () => {
    const lines = ['{"prompt":"あいう","completion":"えお"}', '{"prompt":"' + 'x'.repeat(95) + '","completion":""}', 'not json', ''];
    const bins = lengthHistogram(lines, 100, droppedForLength({ 'filtered:too_long_chars': 3, 'filtered:too_many_tokens': 1, 'filtered:duplicate': 9 }));
    expect(bins).toHaveLength(11);
    expect(bins[0]).toEqual({ from: 0, to: 10, count: 1 });
    expect(bins[9]).toEqual({ from: 90, to: 100, count: 1 });
    expect(bins[10]).toEqual({ from: 100, to: 200, count: 4 });
  });

  it('reads evaluation samples from JSON Lines or an array, with common field names', () => {
    expect(readEvaluationSamples('{"prompt":"p","completion":"c"}\n{"input":"i","output":"o","expected":"e"}\nnot json\n')).toEqual([
      { prompt: 'p', completion: 'c', reference: undefined },
      { prompt: 'i', completion: 'o', reference: 'e' },
    ]);
    expect(readEvaluationSamples('{"samples":[{"prompt":"p","response":"r"}]}')).toEqual([{ prompt: 'p', completion: 'r', reference: undefined }]);
  });
});

describe('a chained run', () => {
  it('gets a table of its stages: each one\'s data, records, models and loss; a single-stage run gets none', () => {
    const config = RunConfig.parse({
      stages: [
        { customizationType: 'CONTINUED_PRE_TRAINING', prep: { template: { kind: 'text' } } },
        { dataset: { key: 'inputs/dolly.jsonl' }, customizationType: 'FINE_TUNING' },
      ],
    });
    const run = finishedRun({
      config,
      stages: {
        train: { status: 'done', attempts: 1, outputs: { modelArn: 'arn:cpt-a', trainingLoss: 2.5 } },
        'train.1': { status: 'done', attempts: 1, outputs: { modelArn: 'arn:cpt-b', trainingLoss: 2.1 } },
        'prepare-1': { status: 'done', attempts: 1, outputs: { counts: { input: 15015, kept: 14598, filtered: 417, rejected: 0, byReason: {}, train: 400, validation: 40, test: 10 } } },
        'train-1': { status: 'done', attempts: 1, outputs: { modelArn: 'arn:ft', trainingLoss: 0.61 } },
      },
    });
    const { html, markdown } = buildReport({ ...reportInputs(), run });
    expect(html).toContain('<h2>Stages</h2>');
    expect(markdown).toContain('| 0 | CONTINUED_PRE_TRAINING | s3://btp-datasets/datasets/dolly-ja.jsonl | 1,000 | 900 | 700 / 100 / 50 | arn:cpt-a, arn:cpt-b | 2.1 |');
    expect(markdown).toContain('| 1 | FINE_TUNING | s3://btp-datasets/inputs/dolly.jsonl | 15,015 | 14,598 | 400 / 40 / 10 | arn:ft | 0.61 |');
    expect(buildReport(reportInputs()).markdown).not.toContain('## Stages');
  });
});
