import type { Run, RunCounts } from '../runs/run';
import { SET_NAMES, type RecordCounts, type SplitManifest } from '../artifacts';
import { categoryChart, FONT_STACK, funnelChart, lengthChart, lossChart, reasonsChart, scoreChart } from './charts';
import { stageConfig } from '../config/run-config';
import { judgeNotes } from '../evaluation/judge-notes';
import type { ComparedRun, ReportInputs } from './inputs';
import { describeStages } from '../runs/stages';
import { jobStatusShown, lastSubmittedJob, runCostEstimateUsd, runCounts, runMetrics } from '../runs/record';

export interface RunReport {
  /** One self-contained page: inline CSS and SVG charts, no external resource, viewable offline. */
  html: string;
  markdown: string;
}

const esc = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
const mdEsc = (s: unknown) =>
  String(s ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ');
const fmt = (n: number | undefined) => (n === undefined ? '–' : n.toLocaleString('en-US'));
const pct = (n: number, of: number) => (of > 0 ? `${((100 * n) / of).toFixed(1)}%` : '–');
/** The first `n` code points of `s` (never half of a surrogate pair), with an ellipsis when it was longer. */
export function clip(s: string, n: number): string {
  const points = [...s];
  return points.length > n ? `${points.slice(0, n).join('')}…` : s;
}

/**
 * What the report's counts count: records, or for a continued pre-training input (the `text` template) the pieces its
 * documents were cut into, each counted as one (a document that could not be read or was empty counts as one too).
 */
interface Unit {
  /** Plural noun for the charts' axes and captions. */
  many: string;
  /** The source's documents, as ingest counted them, when the unit is pieces. */
  documents?: number;
}

function unitOf(run: Run): Unit {
  if (!run.config || stageConfig(run.config, 0).prep.template.kind !== 'text') return { many: 'records' };
  const documents = run.stages[0]?.prepare.plan?.records;
  return documents === undefined ? { many: 'pieces' } : { many: 'pieces', documents };
}

/** A run's customization: its own, or a chained run's stages' in order. */
function customizationOf(run: Run): string | undefined {
  if (!run.config) return undefined;
  const stages = run.config.stages;
  if (!stages || stages.length < 2) return stageConfig(run.config, 0).training.customizationType;
  const types = stages.map((_, n) => stageConfig(run.config, n).training.customizationType);
  return `${types.join(' → ')} (a chained run of ${stages.length} stages)`;
}

interface Funnel {
  counts: RunCounts | RecordCounts;
  stages: Array<{ name: string; value: number }>;
  reasons: Array<{ reason: string; outcome: string; count: number }>;
}

/** The run's counts, else the manifest's: input = kept + filtered + rejected, then kept splits into the sets. */
function funnelOf({ run, manifest }: ReportInputs, unit: Unit): Funnel | undefined {
  const c = runCounts(run) ?? manifest?.counts;
  if (!c) return undefined;
  const stages = [
    { name: `input ${unit.many}`, value: c.input },
    { name: 'readable', value: c.input - c.rejected },
    { name: 'kept by filters', value: c.kept },
  ];
  if (c.train !== undefined) {
    stages.push(
      { name: 'training', value: c.train },
      { name: 'validation', value: c.validation ?? 0 },
      { name: 'test', value: c.test ?? 0 },
    );
  }
  const reasons = Object.entries(c.byReason)
    .flatMap(([reason, count]) => (count === undefined ? [] : [{ reason, outcome: reason.split(':')[0] ?? '', count }]))
    .sort((a, b) => b.count - a.count);
  return { counts: c, stages, reasons };
}

function lengthLimit(inputs: ReportInputs): number | undefined {
  return inputs.manifest?.lengthHistogram.limit ?? inputs.run.config?.prep?.filters?.maxChars;
}

/** Records per category (of the eligible records), and per category and set. */
function categoriesOf(m: SplitManifest): {
  byCategory: Record<string, number>;
  bySet: Record<string, Record<string, number>>;
} {
  const bySet: Record<string, Record<string, number>> = {};
  for (const set of SET_NAMES)
    for (const [category, n] of Object.entries(m.byCategory[set])) (bySet[category] ??= {})[set] = n;
  return { byCategory: m.byCategory.eligible, bySet };
}

const section = (id: string, title: string, body: string) =>
  `<section id="${id}"><h2>${esc(title)}</h2>${body}</section>`;
const figure = (kind: string, svg: string, caption: string) =>
  `<figure class="chart" data-chart="${kind}">${svg}<figcaption>${esc(caption)}</figcaption></figure>`;
const missing = (what: string) => `<p class="missing">${esc(what)}</p>`;
const table = (head: string[], rows: Array<Array<string | number | undefined>>, numeric: number[] = []) =>
  `<table><thead><tr>${head.map((h, i) => `<th${numeric.includes(i) ? ' class="num"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map(
      (r) =>
        `<tr>${r.map((c, i) => `<td${numeric.includes(i) ? ' class="num"' : ''}>${esc(typeof c === 'number' ? fmt(c) : c)}</td>`).join('')}</tr>`,
    )
    .join('')}</tbody></table>`;
const mdTable = (head: string[], rows: Array<Array<string | number | undefined>>) =>
  [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map((c) => mdEsc(typeof c === 'number' ? fmt(c) : (c ?? '–'))).join(' | ')} |`),
  ].join('\n');

function overview(run: Run): Array<[string, string | undefined]> {
  const t = run.config?.training;
  const job = lastSubmittedJob(run);
  const rows: Array<[string, string | undefined]> = [
    ['status', run.status],
    ['source', `s3://${run.source.bucket}/${run.source.key}`],
    ['created', run.createdAt],
    ['updated', run.updatedAt],
    ['base model', t?.baseModelId],
    ['customization', customizationOf(run)],
    ['job', job?.jobArn ? `${job.jobArn}${job.jobStatus ? ` (${jobStatusShown(run, job)})` : ''}` : undefined],
    ['custom model', run.modelArn],
    ['throughput', run.provisionedModelArn],
    ['deployment', run.deploymentArn],
    ['artifacts', run.artifactsPrefix],
  ];
  if (run.failure) rows.push(['failure', `[${run.failure.stage}] ${run.failure.reason}`]);
  if (run.failure?.hint) rows.push(['hint', run.failure.hint]);
  for (const w of run.warnings ?? []) rows.push(['warning', w]);
  return rows.filter(([, v]) => v !== undefined);
}

const STYLE = `
body{font:15px/1.45 ${FONT_STACK};color:#1d2330;margin:0;background:#f5f6f8}
main{max-width:980px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0 0 12px;border-bottom:1px solid #dde1e7;padding-bottom:4px}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:16px 20px;margin:16px 0}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f3;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:8px 0}figcaption{color:#5b6475;font-size:13px}svg{max-width:100%;height:auto}
.status{display:inline-block;padding:2px 8px;border-radius:10px;background:#e8eef7;font-weight:600}
.status.failed,.status.cancelled{background:#f8e1dc}.status.succeeded{background:#dff1e6}
.missing{color:#8a94a6;font-style:italic}.sub{color:#5b6475}pre{white-space:pre-wrap;margin:0;font:13px/1.4 ui-monospace,monospace}
`;

/**
 * Marks each chart that the browser laid out with a visible size and marks in it. The charts need no script; this
 * only lets a headless browser (test/e2e/report) tell a drawn chart from an empty one.
 */
const DRAWN_CHECK = `<script>for(const f of document.querySelectorAll('figure[data-chart]')){const s=f.querySelector('svg');const b=s?s.getBBox():null;const n=s?s.querySelectorAll('path,rect,text').length:0;f.setAttribute('data-marks',String(n));f.setAttribute('data-drawn',String(!!b&&b.width>0&&b.height>0&&n>0));}</script>`;

/** Builds the run report from its inputs: pure, so it is tested without S3 or DynamoDB. */
export function buildReport(inputs: ReportInputs): RunReport {
  const { run, manifest } = inputs;
  const unit = unitOf(run);
  const funnel = funnelOf(inputs, unit);
  const limit = lengthLimit(inputs);
  const hp = Object.entries(run.config?.training?.hyperParameters ?? {});
  const training = inputs.training ?? [];
  const validation = inputs.validation ?? [];
  // The samples the model answered; the others' errors are on the run (evaluation.warning).
  const samples = (inputs.evaluationSamples ?? [])
    .flatMap((s) => (s.modelOutput === undefined ? [] : [{ ...s, modelOutput: s.modelOutput }]))
    .slice(0, 20);
  const html: string[] = [];
  const md: string[] = [
    `# Run report: ${run.runId}`,
    '',
    `Generated ${inputs.generatedAt}.`,
    '',
    mdTable(['', ''], overview(run)),
  ];

  html.push(section('overview', 'Overview', table(['', ''], overview(run))));

  // A chained run's stages: the charts below describe stage 0's data and the last job.
  const stages = describeStages(run);
  if (stages.length) {
    const rows = stages.map((st) => {
      const c = st.counts;
      return [
        String(st.stage),
        st.customizationType,
        `s3://${st.source.bucket}/${st.source.key}`,
        c ? `${fmt(c.input)}${stageConfig(run.config, st.stage).prep.template.kind === 'text' ? ' pieces' : ''}` : '–',
        c ? fmt(c.kept) : '–',
        c?.train !== undefined ? `${fmt(c.train)} / ${fmt(c.validation ?? 0)} / ${fmt(c.test ?? 0)}` : '–',
        st.models.length ? st.models.join(', ') : '–',
        st.trainingLoss !== undefined ? String(st.trainingLoss) : '–',
      ];
    });
    const head = [
      'stage',
      'type',
      'data',
      'input records or pieces',
      'kept',
      'train / validation / test',
      'models',
      'final training loss',
    ];
    html.push(
      section(
        'stages',
        'Stages',
        `<p>A chained run: each stage trains on the model of the one before. The sections below describe stage 0's data${
          unit.documents !== undefined
            ? ` (${fmt(unit.documents)} documents, counted as the pieces they were cut into)`
            : ''
        } and the last job.</p>` + table(head, rows, [3, 4]),
      ),
    );
    md.push('', '## Stages', '', mdTable(head, rows));
  }

  // Funnel and reasons
  if (funnel) {
    const c = funnel.counts;
    const reasonRows = funnel.reasons.map((r) => [r.reason, r.outcome, r.count, pct(r.count, c.input)]);
    const unused = c.train !== undefined ? c.kept - c.train - (c.validation ?? 0) - (c.test ?? 0) : undefined;
    html.push(
      section(
        'funnel',
        'From input records to training, validation and test',
        figure(
          'funnel',
          funnelChart(funnel.stages, unit.many),
          `${unit.documents !== undefined ? `${fmt(unit.documents)} documents cut into pieces; ` : ''}input ${unit.many}: ${fmt(c.input)} = kept ${fmt(c.kept)} + filtered ${fmt(c.filtered)} + rejected ${fmt(c.rejected)}${unused ? `; ${fmt(unused)} kept ${unit.many} were not sampled into any set` : ''}`,
        ) +
          table(
            ['stage', 'records', 'share of input'],
            funnel.stages.map((s) => [s.name, s.value, pct(s.value, c.input)]),
            [1, 2],
          ) +
          (funnel.reasons.length
            ? figure(
                'reasons',
                reasonsChart(Object.fromEntries(funnel.reasons.map((r) => [r.reason, r.count])), unit.many),
                `input ${unit.many} dropped, by reason: ${fmt(c.filtered + c.rejected)} of ${fmt(c.input)}`,
              ) + table(['reason', 'outcome', 'records', 'share of input'], reasonRows, [2, 3])
            : '<p>No record was filtered or rejected.</p>'),
      ),
    );
    md.push(
      '',
      '## Records',
      '',
      mdTable(
        ['stage', 'records', 'share of input'],
        funnel.stages.map((s) => [s.name, s.value, pct(s.value, c.input)]),
      ),
    );
    if (unused) md.push('', `${fmt(unused)} kept records were not sampled into any set.`);
    md.push(
      '',
      funnel.reasons.length
        ? mdTable(['reason', 'outcome', 'records', 'share of input'], reasonRows)
        : 'No record was filtered or rejected.',
    );
  } else {
    html.push(
      section(
        'funnel',
        'From input records to training, validation and test',
        missing('No record counts yet: the data preparation has not finished.'),
      ),
    );
    md.push('', '## Records', '', '_No record counts yet._');
  }

  // Categories
  const categories = manifest && categoriesOf(manifest);
  const byCategory = categories?.byCategory;
  if (byCategory && Object.keys(byCategory).length) {
    const rows = Object.entries(byCategory).sort((a, b) => b[1] - a[1]);
    const total = rows.reduce((s, [, n]) => s + n, 0);
    const inSets = SET_NAMES.reduce(
      (s, set) => s + Object.values(manifest!.byCategory[set]).reduce((a, n) => a + n, 0),
      0,
    );
    const captionCategories =
      `${fmt(total)} eligible (kept, distinct) ${unit.many} in ${rows.length} categories; each bar stacks its ` +
      `training, validation and test ${unit.many} (${fmt(inSets)} in all) and those not sampled into any set`;
    html.push(
      section(
        'categories',
        'Categories',
        figure(
          'categories',
          categoryChart(byCategory, Object.keys(categories.bySet).length ? categories.bySet : undefined, unit.many),
          captionCategories,
        ) +
          table(
            ['category', 'records', 'share'],
            rows.map(([c, n]) => [c, n, pct(n, total)]),
            [1, 2],
          ),
      ),
    );
    md.push(
      '',
      '## Categories',
      '',
      captionCategories,
      '',
      mdTable(
        ['category', 'records', 'share'],
        rows.map(([c, n]) => [c, n, pct(n, total)]),
      ),
    );
  } else {
    html.push(section('categories', 'Categories', missing('The manifest has no category counts.')));
  }

  // Lengths
  const lengths = manifest?.lengthHistogram;
  if (lengths?.bins.length) {
    const over = limit === undefined ? 0 : lengths.bins.filter((b) => b.from >= limit).reduce((s, b) => s + b.count, 0);
    const stats = [
      lengths.p50 !== undefined ? `median ${fmt(lengths.p50)}` : '',
      lengths.p95 !== undefined ? `p95 ${fmt(lengths.p95)}` : '',
      lengths.max !== undefined ? `longest ${fmt(lengths.max)}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    const counted = lengths.bins.reduce((s, b) => s + b.count, 0);
    const what = unit.documents !== undefined ? 'text length' : 'prompt + completion length';
    const caption =
      `${what} in ${lengths.unit} of the ${fmt(counted - over)} ${unit.many} in the training, validation and test sets` +
      `${limit !== undefined ? ` and the ${fmt(over)} dropped for their length; limit ${fmt(limit)} (dashed), ${fmt(over)} ${unit.many} at or past it` : ''}` +
      `${stats ? `; training set: ${stats}` : ''}`;
    html.push(
      section(
        'lengths',
        'Prompt + completion length',
        figure('lengths', lengthChart(lengths.bins, limit, lengths.unit, unit.many), caption),
      ),
    );
    md.push(
      '',
      '## Prompt + completion length',
      '',
      caption,
      '',
      mdTable(
        [`${lengths.unit}`, 'records'],
        lengths.bins.map((b) => [
          `${b.from}–${b.to}${limit !== undefined && b.from >= limit ? ' (over the limit)' : ''}`,
          b.count,
        ]),
      ),
    );
  } else {
    html.push(section('lengths', 'Prompt + completion length', missing('The manifest has no length histogram.')));
  }

  // Hyperparameters and cost
  const hpRows = hp.map(([k, v]) => [k, v]);
  const costUsd = runCostEstimateUsd(run);
  const costText = costUsd !== undefined ? `$${costUsd.toFixed(2)}` : undefined;
  const budget = run.config?.training?.budgetUsd;
  html.push(
    section(
      'training',
      'Hyperparameters and cost',
      (hpRows.length ? table(['hyperparameter', 'value'], hpRows) : missing('No hyperparameters recorded.')) +
        `<p>Estimated cost: <strong>${esc(costText ?? 'not estimated yet')}</strong>${budget !== undefined ? ` (budget $${esc(budget.toFixed(2))})` : ''}. The estimate covers training tokens × epochs at the catalog's price; storage and Provisioned Throughput hours are billed separately.</p>`,
    ),
  );
  md.push(
    '',
    '## Hyperparameters and cost',
    '',
    hpRows.length ? mdTable(['hyperparameter', 'value'], hpRows) : '_No hyperparameters recorded._',
    '',
    `Estimated cost: ${costText ?? 'not estimated yet'}${budget !== undefined ? ` (budget $${budget.toFixed(2)})` : ''}.`,
  );

  // Loss
  const metrics = runMetrics(run);
  const finalLoss = `final training loss ${metrics?.trainingLoss ?? training.at(-1)?.loss ?? '–'}, validation loss ${metrics?.validationLoss ?? validation.at(-1)?.loss ?? '–'}`;
  if (training.length || validation.length) {
    html.push(
      section(
        'loss',
        'Training and validation loss',
        figure(
          'loss',
          lossChart(training, validation),
          `${training.length} training steps, ${validation.length} validation points; ${finalLoss}`,
        ),
      ),
    );
  } else {
    html.push(
      section(
        'loss',
        'Training and validation loss',
        missing(`No metrics files from the job yet${metrics ? `; ${finalLoss}` : ''}.`),
      ),
    );
  }
  md.push(
    '',
    '## Loss',
    '',
    training.length || validation.length
      ? `${training.length} training steps, ${validation.length} validation points; ${finalLoss}.`
      : `No metrics files from the job yet${metrics ? `; ${finalLoss}` : ''}.`,
  );

  // Answers the local Bedrock emulator gave are not a model's: said once, above the scores and samples.
  const emulated = [run, ...(inputs.comparison ?? []).map((c) => c.run)].some((r) => r.evaluation?.result?.emulated);
  if (emulated && (samples.length || inputs.comparison?.length)) {
    html.push(`<p class="note"><strong>${esc(EMULATED_ANSWERS)}</strong></p>`);
    md.push('', `**${EMULATED_ANSWERS}**`);
  }

  // Evaluation scores, compared across runs, and their answers side by side
  if (inputs.comparison?.length) {
    const compared = comparisonSections(inputs.comparison);
    html.push(...compared.html);
    md.push(...compared.md);
  }

  // Evaluation samples
  if (samples.length) {
    html.push(
      section(
        'samples',
        'Evaluation samples',
        table(
          ['prompt', 'reference', 'model output'],
          samples.map((s) => [clip(s.prompt, 600), clip(s.reference, 600), clip(s.modelOutput, 600)]),
        ),
      ),
    );
    md.push(
      '',
      '## Evaluation samples',
      '',
      mdTable(
        ['prompt', 'reference', 'model output'],
        samples.map((s) => [clip(s.prompt, 200), clip(s.reference, 200), clip(s.modelOutput, 200)]),
      ),
    );
  }

  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>Run ${esc(run.runId)}: ${esc(run.status)}</title><style>${STYLE}</style></head>
<body><main>
<h1>Run ${esc(run.runId)} <span class="status ${esc(run.status)}">${esc(run.status)}</span></h1>
<p class="sub">bedrock-tuning-pipeline run report, generated ${esc(inputs.generatedAt)}</p>
${html.join('\n')}
</main>${DRAWN_CHECK}</body></html>
`;
  return { html: page, markdown: `${md.join('\n')}\n` };
}

const ratio = (x: number | null, digits = 2) => (x === null ? undefined : x.toFixed(digits));

/** What the report says when the evaluation's answers came from the local Bedrock emulator. */
export const EMULATED_ANSWERS =
  'These answers come from the local Bedrock emulator, not from a trained model: no model was trained or ran, and ' +
  'the emulator drew each answer from the training data by fixed rules (docs/bedrock-emulator.md), so the scores ' +
  'show the pipeline working, not model quality.';

/**
 * The scores section (a table by run and category, charts of the Japanese answers and the overlap, the held-out proof
 * and the gate's decisions) and, with more than one run, their answers to the same prompts side by side.
 */
function comparisonSections(compared: ComparedRun[]): { html: string[]; md: string[] } {
  const scored = compared.flatMap((c) => {
    const scores = c.run.evaluation?.result?.scores;
    return scores ? [{ ...c, scores }] : [];
  });
  const judged = scored.some(({ scores }) => scores.overall.judge);
  const head = [
    'run',
    'category',
    'samples',
    'answered',
    'Japanese',
    'chars',
    'len/ref',
    'overlong',
    'count met',
    'chrF',
    ...(judged ? ['judge correctness', 'judge Japanese'] : []),
  ];
  // The base model asked the same prompts (variants of one experiment share it): its rows once.
  const bases = new Map(
    scored.flatMap(({ run }) => {
      const b = run.evaluation?.result?.base;
      return b?.overall ? [[b.modelId, { overall: b.overall, byCategory: b.byCategory ?? {} }] as const] : [];
    }),
  );
  const baseRows = [...bases].map(([id, scores]) => [`base model ${id}`, scores] as const);
  const rows = [...scored.map(({ label, scores }) => [label, scores] as const), ...baseRows].flatMap(
    ([label, scores]) =>
      [['all', scores.overall] as const, ...Object.entries(scores.byCategory)].map(([category, s]) => [
        label,
        category,
        s.samples,
        s.answered,
        ratio(s.japaneseRatio),
        s.meanChars === null ? undefined : Math.round(s.meanChars),
        ratio(s.lengthRatio),
        s.overlong,
        s.countRequests ? `${s.countMet}/${s.countRequests}` : undefined,
        ratio(s.overlap, 1),
        ...(judged ? [ratio(s.judge?.correctness ?? null), ratio(s.judge?.japanese ?? null)] : []),
      ]),
  );
  const categories = ['all', ...new Set(scored.flatMap((c) => Object.keys(c.scores.byCategory)))];
  const values = (key: 'japaneseRatio' | 'overlap') =>
    scored.map(({ label, scores }) => ({
      name: label,
      values: categories.map((c) => (c === 'all' ? scores.overall : scores.byCategory[c])?.[key] ?? null),
    }));
  const notes = scored.flatMap(({ label, run }) => {
    const held = run.evaluation?.result?.heldOut;
    const proof = held
      ? `${label}: ${held.checked} test prompts looked for in ${held.against.map((a) => `${a.key} (${fmt(a.records)} records)`).join(' and ')}: ${held.overlapping} found there${held.overlapping ? ' (not scored)' : ''}.`
      : `${label}: the held-out check did not run.`;
    const gate = run.gate ? `${label}: the gate says ${run.gate.decision} (${run.gate.reasons.join('; ')}).` : '';
    const without = run.evaluation?.result?.scores?.overall.withoutReference;
    const unreferenced = without
      ? `${label}: ${without} answer(s) to prompts without a reference (the prompt file's) are not in chrF or len/ref.`
      : '';
    return [proof, gate, unreferenced].filter(Boolean);
  });
  notes.push(...judgeNotes(scored.map(({ run }) => run)));
  const html = [
    section(
      'scores',
      'Evaluation scores',
      `<p>Japanese: share of answers mostly in Japanese script. len/ref: answer length over the reference's (code points). Overlong: past the prompt's limit or twice the reference. Count met: list answers with as many items as asked. chrF: character n-gram overlap with the reference, 0-100.</p>` +
        table(head, rows, [2, 3, 4, 5, 6, 7, 9, ...(judged ? [10, 11] : [])]) +
        figure(
          'japanese',
          scoreChart(categories, values('japaneseRatio'), 'Japanese answers'),
          'share of answers mostly in Japanese, by category',
        ) +
        figure(
          'overlap',
          scoreChart(categories, values('overlap'), 'chrF'),
          'mean chrF against the reference, by category',
        ) +
        notes.map((n) => `<p>${esc(n)}</p>`).join(''),
    ),
  ];
  const md = ['', '## Evaluation scores', '', mdTable(head, rows), '', ...notes.flatMap((n) => [n, ''])];
  if (scored.length > 1) {
    const answers = scored.map((c) => new Map(c.samples.map((s) => [s.prompt, s])));
    const common = scored[0]!.samples.filter((s) => answers.every((a) => a.has(s.prompt))).slice(0, 10);
    const sideHead = ['prompt', 'reference', ...scored.map((c) => c.label)];
    const sideRows = common.map((s) => [
      clip(s.prompt, 300),
      clip(s.reference, 300),
      ...answers.map((a) => clip(a.get(s.prompt)?.modelOutput ?? a.get(s.prompt)?.error ?? '', 300)),
    ]);
    html.push(section('answers', 'Answers side by side', table(sideHead, sideRows)));
    md.push('## Answers side by side', '', mdTable(sideHead, sideRows));
  }
  return { html, md };
}
