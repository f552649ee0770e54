import { execFile, execFileSync } from 'node:child_process';
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

/** Whether fontconfig knows a font with Japanese glyphs (CI installs Debian's fonts-noto-cjk). */
export function hasJapaneseFont(): boolean {
  try {
    return execFileSync('fc-list', [':lang=ja', 'family'], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
}

/**
 * A script for the page under test: draws each character of `text` in the page's own font stack (the body's computed
 * font-family) on a canvas, and compares its pixels with the missing-glyph box drawn for a code point no font has
 * (U+10FFFD). A character drawn as that box (tofu), or as nothing, is not drawn. Two missing code points must draw the
 * same box, or the comparison could not tell. The result goes on `<body data-glyphs>`.
 */
export const glyphCheckScript = (text: string) =>
  `<script>(()=>{const f=getComputedStyle(document.body).fontFamily;const c=document.createElement('canvas');` +
  `c.width=72;c.height=72;const x=c.getContext('2d');const shape=(ch)=>{x.clearRect(0,0,72,72);x.font='56px '+f;` +
  `x.fillStyle='#000';x.textBaseline='top';x.fillText(ch,4,4);const d=x.getImageData(0,0,72,72).data;let s='';` +
  `for(let i=3;i<d.length;i+=4)s+=d[i]>127?'1':'0';return s;};const tofu=shape('\\u{10FFFD}');` +
  `const chars=[...${JSON.stringify(text)}];const shapes=chars.map(shape);` +
  `document.body.setAttribute('data-glyphs',JSON.stringify({family:f,tofuSeen:tofu===shape('\\u{10FFFC}'),` +
  `chars:chars.length,drawn:shapes.filter((s)=>s!==tofu&&s.includes('1')).length,distinct:new Set(shapes).size}));})()</script>`;

/** The glyph check's result, from the DOM Chromium dumped. */
export function glyphsOf(dom: string): {
  family: string;
  tofuSeen: boolean;
  chars: number;
  drawn: number;
  distinct: number;
} {
  const raw = /<body[^>]*data-glyphs="([^"]*)"/.exec(dom)?.[1];
  if (!raw) throw new Error('the page did not run the glyph check');
  return JSON.parse(raw.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as ReturnType<typeof glyphsOf>;
}

/**
 * The same check inside each chart's SVG: every `<text>` of a `figure[data-chart]` (axis and category labels, bar
 * labels) is drawn character by character in that element's own computed font (what the SVG's style gives it, which
 * need not be the page's), and each character beyond Latin and punctuation (U+2E80 on: CJK, kana) is compared with
 * the missing-glyph box of that font. Per chart: the characters checked, those drawn as a glyph, the distinct shapes
 * among them (a font drawing every such character as one box of its own would give one), the distinct characters,
 * whether the box could be seen in every font met, the font families met, and those the text elements declare in
 * their own style (empty when the declaration did not parse and the family was only inherited from the page). The
 * result goes on `<body data-svg-glyphs>`.
 */
export const svgGlyphCheckScript = () =>
  `<script>(()=>{const c=document.createElement('canvas');c.width=72;c.height=72;const x=c.getContext('2d');` +
  `const shape=(ch,font)=>{x.clearRect(0,0,72,72);x.font=font;x.fillStyle='#000';x.textBaseline='top';` +
  `x.fillText(ch,4,4);const d=x.getImageData(0,0,72,72).data;let s='';for(let i=3;i<d.length;i+=4)` +
  `s+=d[i]>127?'1':'0';return s;};const out={};for(const fig of document.querySelectorAll('figure[data-chart]')){` +
  `const r={chars:0,drawn:0,distinct:0,distinctChars:0,tofuSeen:true,families:[],declared:[]};const shapes=new Set();` +
  `const seen=new Set();for(const t of fig.querySelectorAll('svg text')){` +
  `const chars=[...t.textContent].filter((ch)=>ch.codePointAt(0)>=0x2e80);if(!chars.length)continue;` +
  `const cs=getComputedStyle(t);const font=cs.fontStyle+' '+cs.fontWeight+' 56px '+cs.fontFamily;` +
  `if(!r.families.includes(cs.fontFamily))r.families.push(cs.fontFamily);` +
  `if(!r.declared.includes(t.style.fontFamily))r.declared.push(t.style.fontFamily);const tofu=shape('\\u{10FFFD}',font);` +
  `if(tofu!==shape('\\u{10FFFC}',font))r.tofuSeen=false;for(const ch of chars){const s=shape(ch,font);` +
  `r.chars++;seen.add(ch);if(s!==tofu&&s.includes('1')){r.drawn++;shapes.add(s);}}}` +
  `r.distinct=shapes.size;r.distinctChars=seen.size;out[fig.getAttribute('data-chart')]=r;}` +
  `document.body.setAttribute('data-svg-glyphs',JSON.stringify(out));})()</script>`;

export interface SvgGlyphs {
  chars: number;
  drawn: number;
  distinct: number;
  distinctChars: number;
  tofuSeen: boolean;
  families: string[];
  declared: string[];
}

/** The SVG glyph check's result per chart, from the DOM Chromium dumped. */
export function svgGlyphsOf(dom: string): Record<string, SvgGlyphs> {
  const raw = /<body[^>]*data-svg-glyphs="([^"]*)"/.exec(dom)?.[1];
  if (!raw) throw new Error('the page did not run the SVG glyph check');
  return JSON.parse(raw.replace(/&quot;/g, '"').replace(/&amp;/g, '&')) as Record<string, SvgGlyphs>;
}
