/**
 * `npm run bench`: the data preparation benchmark. One JSON line per case: records, bytes, seconds, records/s, MB/s,
 * peak RSS. Cases: the core on databricks-dolly-15k-ja and on a ~650 MB corpus made here (dolly x 40, unique indexes);
 * the pandas way of the seed recipe on both, when python3-pandas is installed, with the ratios; and upload to
 * split-done through the local stack on both. Each case runs in its own process, so each peak RSS is its own, and
 * BENCH_ROUNDS times (default 3), the cases taking turns; each line is the case's median run. And the cold start of
 * every function (bench/coldstart.ts), which takes seconds; and the hand-written CSV and JSON-array readers against
 * csv-parse and stream-json (bench/readers.ts, `readers`), a few seconds.
 *
 * `npm run bench -- <name>...` runs only the cases whose names start with one of the names given (`coldstart`,
 * `readers`, `core`, `stack`, `pandas`, or a whole name such as `core dolly-15k-ja`); with none, every case.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { coldStart } from './coldstart';

const ROOT = path.resolve(__dirname, '..');
const DOLLY = path.resolve(ROOT, '../shared/data/databricks-dolly-15k-ja.jsonl');
const REPEAT = 40;
/** Runs of each case (BENCH_ROUNDS): the median is printed. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

const round2 = (x: number) => Math.round(x * 100) / 100;

const print = (line: Record<string, unknown>) => process.stdout.write(JSON.stringify(line) + '\n');

const SELECTORS = process.argv.slice(2);
const selected = (name: string) => SELECTORS.length === 0 || SELECTORS.some((s) => name.startsWith(s));

function runNode(mode: string, file: string, workers?: string): Record<string, unknown> {
  // The stack case runs with the flags `npm start` gives the local stack (see package.json).
  const flags = [
    '--openssl-legacy-provider',
    '--expose-gc',
    ...(mode === 'stack' ? ['--single-threaded-gc', '--no-flush-bytecode'] : []),
  ];
  const r = spawnSync(
    process.execPath,
    [...flags, '--import', 'tsx', path.join(__dirname, 'case.ts'), mode, file, ...(workers ? [workers] : [])],
    {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
    },
  );
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as Record<string, unknown>;
  } catch {
    return { error: `exit ${r.status}: ${r.stderr.slice(-2000)}` };
  }
}

function runPandas(file: string, out: string): Record<string, unknown> {
  // Debian's python3-pandas lives under /usr/bin/python3, which a pyenv or venv python3 on PATH may hide.
  const python = ['python3', '/usr/bin/python3'].find(
    (p) => spawnSync(p, ['-c', 'import pandas'], { encoding: 'utf8' }).status === 0,
  );
  if (!python) return { skipped: 'pandas is not installed (apt-get install python3-pandas)' };
  const probe = spawnSync(python, ['-c', 'import pandas; print(pandas.__version__)'], { encoding: 'utf8' });
  const r = spawnSync(python, [path.join(__dirname, 'pandas_baseline.py'), file, out], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) return { error: r.stderr.slice(-2000) };
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as { records: number; seconds: number; peakRssMB: number };
  return {
    pandas: probe.stdout.trim(),
    ...res,
    recordsPerSecond: Math.round(res.records / res.seconds),
    peakRssMB: Math.round(res.peakRssMB),
  };
}

/** dolly-15k-ja repeated with unique indexes: the same records 40 times, about 650 MB. */
async function makeCorpus(file: string) {
  const lines = readFileSync(DOLLY, 'utf8').split('\n').filter(Boolean);
  const out = createWriteStream(file);
  for (let rep = 0; rep < REPEAT; rep++) {
    const text = lines.map((l) => l.replace(/^\{"index":"/, `{"index":"${rep}-`)).join('\n') + '\n';
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

(async () => {
  if (selected('coldstart')) await coldStart(print);
  if (SELECTORS.length > 0 && SELECTORS.every((s) => s.startsWith('coldstart'))) return;
  if (!existsSync(DOLLY)) {
    print({ case: 'all', skipped: `${DOLLY} is absent` });
    return;
  }
  if (selected('readers')) {
    const readers = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'readers.ts'), DOLLY], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    process.stdout.write(
      readers.stdout || `${JSON.stringify({ case: 'readers', error: readers.stderr.slice(-2000) })}\n`,
    );
  }
  const tmp = mkdtempSync(path.join(tmpdir(), 'btp-bench-'));
  try {
    const dir = path.join(tmp, 'datasets');
    mkdirSync(dir);
    const dolly = path.join(dir, 'dolly-15k-ja.jsonl');
    const corpus = path.join(dir, 'corpus-650mb.jsonl');
    copyFileSync(DOLLY, dolly);
    // Each case runs ROUNDS times, the cases taking turns, and prints its median run (by time) with every run's time:
    // a shared machine's noise comes and goes, and a ratio of two cases measured minutes apart would carry it. So the
    // cases compared with each other run back to back: the core on a file between the stack and pandas on the same
    // file.
    const allCases: Array<[string, () => Record<string, unknown>]> = [
      ['core dolly-15k-ja', () => runNode('core', dolly)],
      ['stack dolly-15k-ja', () => runNode('stack', dolly)],
      ['pandas dolly-15k-ja', () => runPandas(dolly, path.join(tmp, 'pandas-dolly'))],
      ['stack corpus-650mb', () => runNode('stack', corpus)],
      ['core corpus-650mb', () => runNode('core', corpus)],
      ['pandas corpus-650mb', () => runPandas(corpus, path.join(tmp, 'pandas-corpus'))],
      ['core corpus-650mb, chunks in parallel', () => runNode('core', corpus, String(availableParallelism()))],
    ];
    const cases = allCases.filter(([name]) => selected(name));
    if (cases.some(([name]) => name.includes('corpus'))) await makeCorpus(corpus);
    const samples = new Map<string, Array<Record<string, unknown>>>(cases.map(([name]) => [name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [name, fn] of cases) {
        const r = fn();
        samples.get(name)!.push(r);
        process.stderr.write(
          `round ${round}/${ROUNDS} ${name}: ${typeof r.seconds === 'number' ? `${r.seconds.toFixed(3)} s` : JSON.stringify(r).slice(0, 200)}\n`,
        );
      }
    }
    const results: Record<string, Record<string, unknown>> = {};
    for (const [name] of cases) {
      const all = samples.get(name)!;
      const timed = all
        .filter((r) => typeof r.seconds === 'number')
        .sort((a, b) => (a.seconds as number) - (b.seconds as number));
      results[name] = timed.length
        ? { ...timed[Math.floor((timed.length - 1) / 2)]!, runs: all.map((r) => r.seconds ?? null) }
        : all[0]!;
      print({ case: name, ...results[name] });
    }
    const pandas = results['pandas corpus-650mb'];
    for (const name of ['core corpus-650mb', 'core corpus-650mb, chunks in parallel']) {
      const core = results[name];
      if (typeof pandas?.seconds !== 'number' || typeof core?.seconds !== 'number') continue;
      print({
        case: `${name} vs pandas`,
        throughputRatio: round2((pandas.seconds as number) / (core.seconds as number)),
        memoryRatio: Math.round(((core.peakRssMB as number) / (pandas.peakRssMB as number)) * 1000) / 1000,
        targets: { throughputRatio: '>= 3', memoryRatio: '<= 0.1' },
      });
    }
    for (const name of ['dolly-15k-ja', 'corpus-650mb']) {
      const s = results[`stack ${name}`];
      const c = results[`core ${name}`];
      if (typeof s?.seconds === 'number' && typeof c?.seconds === 'number') {
        // The target's ratio is of the two medians; each round's own ratio (its two runs back to back) shows the
        // spread.
        const pairs = samples
          .get(`stack ${name}`)!
          .map((r, i) => [r.seconds, samples.get(`core ${name}`)![i]!.seconds]);
        const roundRatios = pairs.map(([a, b]) =>
          typeof a === 'number' && typeof b === 'number' ? round2(a / b) : null,
        );
        print({
          case: `stack vs core, ${name}`,
          timeRatio: round2((s.seconds as number) / (c.seconds as number)),
          target: '<= 1.5',
          roundRatios,
        });
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
})();
