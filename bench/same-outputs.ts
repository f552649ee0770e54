/**
 * Checks that a change to the core leaves its outputs as they were: `same-outputs.ts <file> <other checkout> [workers]`
 * prepares `file` with this checkout's core (bench/core.ts, `workers` threads) and with the other checkout's (one
 * thread), then compares every file of the run byte for byte: the three sets, the rejects and the manifest bar its
 * `createdAt`, and with one thread each chunk's kept, meta and rejects files too (with more, the chunks differ by
 * design: a thread's duplicates across chunks are dropped by split). Prints what differs; exits 1 if anything does.
 * Run with tsx (`node --import tsx bench/same-outputs.ts ...`); the other checkout needs its own node_modules.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveRunConfig } from '../shared/config/run-config';
import { bundle } from './bundle';
import { prepareCore } from './core';

type Prepare = typeof prepareCore;

async function runOnce(prepare: Prepare, file: string, workers: number, workerScript?: string): Promise<string> {
  const root = mkdtempSync(path.join(tmpdir(), 'btp-same-outputs-'));
  const source = { bucket: path.basename(path.dirname(file)), key: path.basename(file), size: statSync(file).size };
  await prepare({
    source,
    config: resolveRunConfig(),
    datasetsRoot: path.dirname(path.dirname(file)),
    artifactsRoot: root,
    workers,
    workerScript,
  });
  return root;
}

function filesUnder(root: string, dir = ''): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(root, path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

const withoutCreatedAt = (b: Buffer) => b.toString('utf8').replace(/"createdAt": *"[^"]*"/, '"createdAt": ""');

function compare(a: string, b: string, chunksToo: boolean): string[] {
  const wanted = (f: string) => chunksToo || !f.includes(`${path.sep}chunks${path.sep}`);
  const fa = filesUnder(a).filter(wanted).sort();
  const fb = filesUnder(b).filter(wanted).sort();
  const diffs: string[] = [];
  for (const f of new Set([...fa, ...fb])) {
    if (!fa.includes(f) || !fb.includes(f)) {
      diffs.push(`${f}: only in ${fa.includes(f) ? 'this checkout' : 'the other'}`);
      continue;
    }
    const [x, y] = [readFileSync(path.join(a, f)), readFileSync(path.join(b, f))];
    const same = f.endsWith('manifest.json') ? withoutCreatedAt(x) === withoutCreatedAt(y) : x.equals(y);
    if (!same) diffs.push(`${f}: differs (${x.length} bytes against ${y.length})`);
  }
  if (fa.length === 0) diffs.push('no outputs');
  return diffs;
}

if (require.main === module) {
  void (async () => {
    const [file, other, workersArg] = process.argv.slice(2) as [string, string, string | undefined];
    const workers = Number(workersArg ?? 1);
    const theirs = (await import(path.resolve(other, 'bench', 'core.ts'))) as { prepareCore: Prepare };
    const roots: string[] = [];
    try {
      const scripts = mkdtempSync(path.join(tmpdir(), 'btp-same-outputs-worker-'));
      roots.push(scripts);
      const workerScript = workers > 1 ? await bundle('chunk-worker', scripts) : undefined;
      roots.push(await runOnce(prepareCore, file, workers, workerScript));
      roots.push(await runOnce(theirs.prepareCore, file, 1));
      const diffs = compare(roots[1]!, roots[2]!, workers === 1);
      process.stdout.write(
        diffs.length
          ? `${diffs.join('\n')}\n`
          : `same outputs (${filesUnder(roots[1]!).length} files; ${workers} thread(s) against one)\n`,
      );
      process.exitCode = diffs.length ? 1 : 0;
    } finally {
      for (const r of roots) rmSync(r, { recursive: true, force: true });
    }
  })();
}
