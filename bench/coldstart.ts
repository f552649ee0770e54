import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { esbuildOptionsFrom } from '../local/stack/bundle';
import { loadServerlessConfig, PROJECT_ROOT } from '../local/stack/serverless-config';
import { buildTopology } from '../local/stack/topology';

/** Cold starts measured per function (BENCH_COLDSTARTS): each in a fresh process; the median is printed. */
const SAMPLES = Math.max(1, Number(process.env.BENCH_COLDSTARTS ?? 7));
const TARGET_MS = 150;

interface Sample {
  importMs: number;
  depsMs: number;
  initMs: number;
  cpuMs: number;
}

/**
 * The cold start case: each function's initialisation, as Lambda's init phase runs it (import of the bundle, then its
 * deps built), in a fresh process with the function's environment from serverless.yml (its NODE_OPTIONS, if it
 * sets any, as Node options), SAMPLES times, the functions taking turns. The bundles are built with
 * serverless.yml's settings (as the local stack does), each with its deps.ts exported beside the handler so the
 * process can call its composition root; nothing is sent to any service.
 */
export async function coldStart(print: (line: Record<string, unknown>) => void): Promise<void> {
  const config = await loadServerlessConfig('local');
  const topology = buildTopology(config, { sqsEndpoint: 'http://127.0.0.1:9' });
  const tmp = mkdtempSync(path.join(tmpdir(), 'btp-coldstart-'));
  try {
    const entryPoints: Record<string, string> = {};
    for (const [key, fn] of Object.entries(topology.functions)) {
      const dir = path.join(PROJECT_ROOT, path.dirname(fn.handlerFile));
      const entry = path.join(tmp, `${key}-entry.ts`);
      const source = [
        `export * from ${JSON.stringify(path.join(PROJECT_ROOT, fn.handlerFile))};`,
        `export * as __deps from ${JSON.stringify(path.join(dir, 'deps'))};`,
      ];
      writeFileSync(entry, source.join('\n') + '\n');
      entryPoints[key] = entry;
    }
    const outdir = path.join(tmp, 'out');
    await build({ ...esbuildOptionsFrom(config), entryPoints, outdir, logLevel: 'silent' });

    // The machine's load average (1, 5 and 15 minutes) when the samples start and when they end: on a shared machine
    // the wall times say little without it.
    const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
    const samples = new Map<string, Sample[]>(Object.keys(entryPoints).map((key) => [key, []]));
    const errors = new Map<string, string>();
    for (let round = 0; round < SAMPLES; round++) {
      for (const [key, fn] of Object.entries(topology.functions)) {
        if (errors.has(key)) continue;
        const env: Record<string, string> = {
          PATH: process.env.PATH ?? '',
          TZ: 'UTC',
          // What Lambda sets for every function (the credentials are placeholders: nothing is sent).
          AWS_REGION: 'us-east-1',
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'coldstart',
          AWS_SECRET_ACCESS_KEY: 'coldstart',
          AWS_LAMBDA_FUNCTION_NAME: fn.name,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
          ...fn.environment,
        };
        const nodeOptions = (env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean);
        delete env.NODE_OPTIONS;
        const r = spawnSync(
          process.execPath,
          [...nodeOptions, path.join(__dirname, 'coldstart-init.js'), path.join(outdir, `${key}.js`)],
          {
            env,
            encoding: 'utf8',
          },
        );
        try {
          samples.get(key)!.push(JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Sample);
        } catch {
          errors.set(key, `exit ${r.status}: ${r.stderr.slice(-1000)}`);
        }
      }
    }

    const round1 = (x: number) => Math.round(x * 10) / 10;
    const medians: Record<string, number> = {};
    for (const [key, runs] of samples) {
      if (errors.has(key)) {
        print({ case: `coldstart ${key}`, error: errors.get(key) });
        continue;
      }
      const sorted = [...runs].sort((a, b) => a.initMs - b.initMs);
      const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
      medians[key] = round1(median.initMs);
      const bundle = path.join(outdir, `${key}.js`);
      print({
        case: `coldstart ${key}`,
        initMs: round1(median.initMs),
        importMs: round1(median.importMs),
        depsMs: round1(median.depsMs),
        cpuMs: round1(median.cpuMs),
        runsMs: runs.map((r) => round1(r.initMs)),
        bundleKB: Math.round(statSync(bundle).size / 1024),
        mapKB: Math.round(statSync(`${bundle}.map`).size / 1024),
      });
    }
    const slowest = Object.entries(medians).sort((a, b) => b[1] - a[1])[0];
    print({
      case: 'coldstart',
      slowest: slowest?.[0],
      initMs: slowest?.[1],
      target: `<= ${TARGET_MS} ms for every function`,
      met: errors.size === 0 && Object.values(medians).every((ms) => ms <= TARGET_MS),
      samples: SAMPLES,
      load: { start: loadAtStart, end: loadavg().map((x) => Math.round(x * 100) / 100) },
    });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
