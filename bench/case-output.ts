/**
 * Runs one benchmark case and prints its JSON line (bench/run.ts reads the last line): the case's own figures, with
 * records/s, MB/s, the process's peak RSS and its whole CPU (start-up included, to set against the Python peers').
 */
export function printCase(bytes: number, run: () => Promise<{ seconds?: number; records?: number; skipped?: string }>) {
  run()
    .then((out) => {
      const result: Record<string, unknown> = { ...out, bytes };
      if (typeof out.seconds === 'number') {
        result.recordsPerSecond = Math.round((out.records ?? 0) / out.seconds);
        result.MBPerSecond = Math.round((bytes / 1e6 / out.seconds) * 10) / 10;
      }
      result.peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
      const cpu = process.cpuUsage();
      result.processCpuSeconds = Math.round((cpu.user + cpu.system) / 1e4) / 100;
      process.stdout.write(JSON.stringify(result) + '\n');
      process.exit(0);
    })
    .catch((err: unknown) => {
      process.stdout.write(JSON.stringify({ error: (err as Error).stack }) + '\n');
      process.exit(1);
    });
}
