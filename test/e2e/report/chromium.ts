import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

export const CHROMIUM = process.env.BTP_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** Loads a page in headless Chromium with no network and returns the DOM after its scripts ran. */
export async function dumpDom(html: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'btp-chromium-'));
  try {
    const file = path.join(dir, 'report.html');
    writeFileSync(file, html);
    const { stdout } = await promisify(execFile)(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        // Any request the page made would fail: the page must be whole without the network.
        '--proxy-server=127.0.0.1:9',
        `--user-data-dir=${path.join(dir, 'profile')}`,
        '--virtual-time-budget=5000',
        '--dump-dom',
        `file://${file}`,
      ],
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    return stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Each chart figure's drawn flag and mark count, as the page's own check set them in the browser. */
export function chartsDrawn(dom: string): Array<{ chart: string; drawn: boolean; marks: number }> {
  return [...dom.matchAll(/<figure\b[^>]*>/g)].flatMap((m) => {
    const tag = m[0];
    const chart = /data-chart="([^"]+)"/.exec(tag)?.[1];
    if (!chart) return [];
    return [{ chart, drawn: /data-drawn="true"/.test(tag), marks: Number(/data-marks="(\d+)"/.exec(tag)?.[1] ?? 0) }];
  });
}
