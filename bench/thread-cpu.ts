import { readFileSync } from 'node:fs';

/**
 * The CPU seconds (user and system) of the calling thread so far, from Linux's /proc/thread-self/stat (in clock ticks
 * of 1/100 s: USER_HZ, see proc(5)); undefined where there is no such file. process.cpuUsage() counts every thread of
 * the process, and the bench wants to know where a parallel run's CPU goes: the main thread, each worker, and the
 * runtime's own threads (compilers, garbage collection, file I/O), which the rest is.
 */
export function threadCpuSeconds(): number | undefined {
  let stat: string;
  try {
    stat = readFileSync('/proc/thread-self/stat', 'latin1');
  } catch {
    return undefined;
  }
  // The fields after the command name (which may hold spaces, in parentheses): utime and stime are the 14th and 15th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** One chunk's transform, as the bench reports it: which thread (0: the main one), when it began, its time and CPU. */
export interface ChunkTiming {
  index: number;
  thread: number;
  /** Seconds from the transform phase's start. */
  start: number;
  seconds: number;
  cpuSeconds?: number;
}

/** A timing of `work` on this thread: wall seconds and the thread's CPU seconds. */
export async function timed<T>(
  work: () => Promise<T>,
): Promise<{ value: T; at: number; seconds: number; cpuSeconds?: number }> {
  const c0 = threadCpuSeconds();
  const at = performance.timeOrigin + performance.now();
  const value = await work();
  const seconds = (performance.timeOrigin + performance.now() - at) / 1000;
  const c1 = threadCpuSeconds();
  return { value, at, seconds, ...(c0 !== undefined && c1 !== undefined ? { cpuSeconds: c1 - c0 } : {}) };
}
