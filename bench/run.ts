/**
 * `npm run bench`: the data preparation benchmark. One JSON line per case: records, bytes, seconds, records/s, MB/s,
 * peak RSS. Cases: the core on databricks-dolly-15k-ja and on a ~650 MB corpus made here (dolly x 40, unique indexes);
 * the seed recipe's steps in pandas, DuckDB and polars on both (Python peers, from the bench's own environment that
 * `npm run bench:setup` makes, or any python3 that has them; a missing one is skipped with a word), each a whole
 * process, with the core's ratios against each; upload to split-done through the local stack on both; and on
 * dolly-15k-ja, upload to CreateModelCustomizationJob and its job's Bedrock status calls per simulated hour
 * (bench/submit.ts). Each case runs in its own process, so each peak RSS is its own, and BENCH_ROUNDS times (default
 * 3), the cases taking turns; each line is the case's median run. And the cold start of every function
 * (bench/coldstart.ts), which takes seconds; and the hand-written CSV and JSON-array readers against csv-parse and
 * stream-json (bench/readers.ts, `readers`), a few seconds.
 *
 * `npm run bench -- <name>...` runs only the cases whose names start with one of the names given (`coldstart`,
 * `readers`, `core`, `stack`, `submit`, `pandas`, `duckdb`, `polars`, or a whole name such as `core dolly-15k-ja`);
 * with none, every case.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { bundleCore } from './bundle';
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

/** The core's case and chunk worker as bundles (bench/bundle.ts), built once before the rounds. */
let coreBundle: { coreCase: string; chunkWorker: string } | undefined;

function runNode(mode: string, file: string, workers?: string, out?: string): Record<string, unknown> {
  // The stack cases run with the flags `npm start` gives the local stack (see package.json).
  const flags = [
    '--openssl-legacy-provider',
    '--expose-gc',
    ...(mode === 'stack' || mode === 'submit' ? ['--single-threaded-gc', '--no-flush-bytecode'] : []),
  ];
  // The core runs as a bundle, as the functions are deployed (bench/bundle.ts); the submit case has a script of its
  // own (bench/submit.ts); the stack is a mode of bench/case.ts, run from the sources as `npm start` runs it.
  const script =
    mode === 'core'
      ? [coreBundle!.coreCase]
      : [
          '--import',
          'tsx',
          ...(mode === 'submit' ? [path.join(__dirname, 'submit.ts')] : [path.join(__dirname, 'case.ts'), mode]),
        ];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [...flags, ...script, file, ...(workers ? [workers] : [])], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      ...(mode === 'core' ? { BENCH_CHUNK_WORKER: coreBundle!.chunkWorker } : {}),
      ...(out ? { BENCH_CORE_OUT: out } : {}),
    },
  });
  // The whole process, from spawn to exit (the runtime's start, and for the sources tsx's compilation of the
  // TypeScript, included), as the peers are measured.
  const wallSeconds = round2(Number(process.hrtime.bigint() - t0) / 1e9);
  // The outputs are removed after the process, as the peers' are (runPeer).
  if (out) rmSync(out, { recursive: true, force: true });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return { ...(JSON.parse(last) as Record<string, unknown>), wallSeconds };
  } catch {
    return { error: `exit ${r.status}: ${r.stderr.slice(-2000)}` };
  }
}

/** The bench's own Python environment (`npm run bench:setup`): duckdb, polars and pandas from the package registry. */
const VENV_PYTHON = path.join(__dirname, '.venv', 'bin', 'python');

/** The Python peers: each does the seed recipe's steps i-iv its own way, on the same file, in a process of its own. */
const PEERS = {
  pandas: 'pandas_baseline.py',
  duckdb: 'duckdb_peer.py',
  polars: 'polars_peer.py',
} as const;
type Peer = keyof typeof PEERS;

const pythons = new Map<Peer, string | undefined>();
/**
 * The first Python that imports the peer's library: the bench's environment, then python3 on PATH, then Debian's
 * (/usr/bin/python3, where python3-pandas installs, which a pyenv python3 on PATH may hide).
 */
function pythonFor(peer: Peer): string | undefined {
  if (!pythons.has(peer)) {
    const candidates = [...(existsSync(VENV_PYTHON) ? [VENV_PYTHON] : []), 'python3', '/usr/bin/python3'];
    const found = candidates.find((p) => spawnSync(p, ['-c', `import ${peer}`], { encoding: 'utf8' }).status === 0);
    if (!found)
      process.stderr.write(`${peer} is not installed: skipping its cases (run \`npm run bench:setup\` once)\n`);
    pythons.set(peer, found);
  }
  return pythons.get(peer);
}

/**
 * One run of a Python peer as a whole process: its wall time from spawn to exit (interpreter start and imports
 * included, as a user would run it), and the whole process's CPU seconds and peak RSS as it reports them at its end;
 * `seconds` is the time of its steps alone.
 */
function runPeer(peer: Peer, file: string, out: string): Record<string, unknown> {
  const python = pythonFor(peer);
  if (!python) return { skipped: `${peer} is not installed (run \`npm run bench:setup\` once; see bench/README.md)` };
  const t0 = process.hrtime.bigint();
  const r = spawnSync(python, [path.join(__dirname, PEERS[peer]), file, out], {
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) return { error: r.stderr.slice(-2000) };
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    records: number;
    seconds: number;
    cpuSeconds?: number;
    peakRssMB: number;
  };
  return {
    ...(peer === 'pandas' ? { pandas: pandasVersion(python) } : {}),
    ...res,
    wallSeconds: round2(wallSeconds),
    ...(res.cpuSeconds !== undefined ? { cpuSeconds: round2(res.cpuSeconds) } : {}),
    recordsPerSecond: Math.round(res.records / res.seconds),
    peakRssMB: Math.round(res.peakRssMB),
  };
}

const pandasVersion = (python: string) =>
  spawnSync(python, ['-c', 'import pandas; print(pandas.__version__)'], { encoding: 'utf8' }).stdout.trim();

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
      ['core dolly-15k-ja', () => runNode('core', dolly, undefined, path.join(tmp, 'core-dolly'))],
      ['stack dolly-15k-ja', () => runNode('stack', dolly)],
      ['pandas dolly-15k-ja', () => runPeer('pandas', dolly, path.join(tmp, 'pandas-dolly'))],
      ['duckdb dolly-15k-ja', () => runPeer('duckdb', dolly, path.join(tmp, 'duckdb-dolly'))],
      ['polars dolly-15k-ja', () => runPeer('polars', dolly, path.join(tmp, 'polars-dolly'))],
      ['submit dolly-15k-ja', () => runNode('submit', dolly)],
      ['stack corpus-650mb', () => runNode('stack', corpus)],
      ['core corpus-650mb', () => runNode('core', corpus, undefined, path.join(tmp, 'core-corpus'))],
      ['pandas corpus-650mb', () => runPeer('pandas', corpus, path.join(tmp, 'pandas-corpus'))],
      ['duckdb corpus-650mb', () => runPeer('duckdb', corpus, path.join(tmp, 'duckdb-corpus'))],
      ['polars corpus-650mb', () => runPeer('polars', corpus, path.join(tmp, 'polars-corpus'))],
      [
        'core corpus-650mb, chunks in parallel',
        () => runNode('core', corpus, String(availableParallelism()), path.join(tmp, 'core-corpus')),
      ],
    ];
    const cases = allCases.filter(([name]) => selected(name));
    if (cases.some(([name]) => name.startsWith('core'))) coreBundle = await bundleCore(path.join(tmp, 'bundle'));
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
    // The core against each peer on the same file, each a whole process: the core's wall time, CPU seconds and peak
    // RSS over the peer's (below 1: the core took less). The targets are DuckDB's (issue 16): wall <= 1, memory <= 1/3.
    for (const file of ['dolly-15k-ja', 'corpus-650mb']) {
      const cores = [`core ${file}`, ...(file === 'corpus-650mb' ? [`core ${file}, chunks in parallel`] : [])];
      for (const coreName of cores) {
        const core = results[coreName];
        for (const peer of Object.keys(PEERS) as Peer[]) {
          const other = results[`${peer} ${file}`];
          if (typeof core?.wallSeconds !== 'number' || typeof other?.wallSeconds !== 'number') continue;
          // The core's whole-process CPU is processCpuSeconds (its cpuSeconds is the measured part's).
          const ratio = (key: string, coreKey = key) =>
            typeof core[coreKey] === 'number' && typeof other[key] === 'number'
              ? Math.round(((core[coreKey] as number) / (other[key] as number)) * 1000) / 1000
              : null;
          print({
            case: `${coreName} vs ${peer}`,
            wallRatio: ratio('wallSeconds'),
            cpuRatio: ratio('cpuSeconds', 'processCpuSeconds'),
            memoryRatio: ratio('peakRssMB'),
            core: { wallSeconds: core.wallSeconds, cpuSeconds: core.processCpuSeconds, peakRssMB: core.peakRssMB },
            [peer]: { wallSeconds: other.wallSeconds, cpuSeconds: other.cpuSeconds, peakRssMB: other.peakRssMB },
            ...(peer === 'duckdb' ? { targets: { wallRatio: '<= 1', memoryRatio: '<= 0.33' } } : {}),
          });
        }
      }
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
