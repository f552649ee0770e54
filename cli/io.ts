import { createInterface } from 'node:readline/promises';

/** Where the CLI writes: stdout for results (tables or JSON), stderr for progress and errors. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is a terminal: progress bars redraw in place; otherwise they print a line per change. */
  interactive: boolean;
  /** Asks a yes/no question; false when there is no terminal to ask on. */
  confirm(question: string): Promise<boolean>;
  /** Standard input, for commands that read prompts (`btp chat`). */
  input?: {
    isTTY: boolean;
    /** All of it, to the end. */
    readAll(): Promise<string>;
    /** Lines typed at a prompt, until the end of input. */
    lines(prompt: string): AsyncIterable<string>;
  };
}

export function processIo(): Io {
  return {
    out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    err: (t) => process.stderr.write(t.endsWith('\n') || t.endsWith('\r') ? t : `${t}\n`),
    interactive: !!process.stderr.isTTY,
    confirm: async (question) => {
      if (!process.stdin.isTTY) return false;
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
      } finally {
        rl.close();
      }
    },
    input: {
      isTTY: !!process.stdin.isTTY,
      readAll: async () => {
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        return Buffer.concat(chunks).toString('utf8');
      },
      lines: async function* (prompt) {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        try {
          while (true) {
            const line = await rl.question(prompt).catch(() => undefined); // Ctrl-D closes the interface
            if (line === undefined) return;
            yield line;
          }
        } finally {
          rl.close();
        }
      },
    },
  };
}

/**
 * An error the user can act on: what failed, for which run and stage, and what to do next. The CLI prints it without
 * a stack trace and exits with `exitCode` (1: the operation failed or found nothing, 2: a usage error).
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly next?: string,
    readonly exitCode = 1,
    readonly context: { runId?: string; stage?: string } = {},
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function formatError(err: CliError): string {
  const where = [
    err.context.runId ? `run ${err.context.runId}` : '',
    err.context.stage ? `stage ${err.context.stage}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `error${where ? ` (${where})` : ''}: ${err.message}${err.next ? `\n  next: ${err.next}` : ''}`;
}

/** A plain text table: columns padded to their widest cell, numbers right-aligned. */
export function table(head: string[], rows: Array<Array<string | number | undefined>>): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined || c === '' ? '-' : String(c))));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => [...(r[i] ?? '')].length)));
  const numeric = head.map(
    (_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === undefined),
  );
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...cells.map(line)].join('\n');
}

/** `[#######.............]  35%  7/20 chunks` */
export function progressBar(done: number, total: number, label: string, width = 24): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%  ${done}/${total} ${label}`;
}

/** `24h`, `7d`, `30m` before now, or an ISO time, as an ISO time. */
export function parseSince(value: string, now: Date): string {
  const m = /^(\d+)\s*([smhdw])$/.exec(value.trim());
  if (m) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return new Date(now.getTime() - Number(m[1]) * unit * 1000).toISOString();
  }
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new CliError(
      `--since ${value} is neither a duration (30m, 24h, 7d) nor a date`,
      'give e.g. --since 24h or --since 2025-06-01',
      2,
    );
  return new Date(t).toISOString();
}
