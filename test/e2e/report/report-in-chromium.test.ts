import { buildReport } from '../../../shared/report/build-report';
import { reportFixture, reportInputs } from '../../unit/report/report-fixture';
import {
  chartsDrawn,
  CHROMIUM,
  dumpDom,
  glyphCheckScript,
  glyphsOf,
  hasChromium,
  hasJapaneseFont,
  svgGlyphCheckScript,
  svgGlyphsOf,
} from './chromium';

// The charts are SVG drawn at build time; this checks a real browser lays them out, offline. CI installs Debian's
// chromium; without it the test is reported as skipped, with this message, never passed silently.
if (!hasChromium)
  console.warn(
    `SKIPPED: ${CHROMIUM} is not installed (apt-get install -y chromium); the report is not checked in a browser`,
  );
const withChromium = hasChromium ? it : it.skip;
const japaneseFont = hasChromium && hasJapaneseFont();
if (hasChromium && !japaneseFont)
  console.warn(
    'SKIPPED: no Japanese font is installed (apt-get install -y fonts-noto-cjk); Japanese glyphs are not checked',
  );
const withJapaneseFont = japaneseFont ? it : it.skip;

describe('the run report in headless Chromium', () => {
  withChromium(
    'draws every chart of a finished run, with no network',
    async () => {
      // given a finished run's report
      const { html } = buildReport(reportInputs(await reportFixture()));

      // when Chromium loads it from a file, with every request sent to a dead proxy
      const dom = await dumpDom(html);

      // then each chart is laid out with a size and marks in it
      const charts = chartsDrawn(dom);
      expect(charts.map((c) => c.chart)).toEqual(['funnel', 'reasons', 'categories', 'lengths', 'loss']);
      for (const c of charts) {
        expect(c).toMatchObject({ drawn: true });
        expect(c.marks).toBeGreaterThan(5);
      }
      expect(dom).toContain('日本の首都は？');
    },
    90_000,
  );

  withJapaneseFont(
    "draws the data's Japanese with the report's font stack, not as empty boxes",
    async () => {
      // given a report whose samples are Japanese, and the page's own font stack
      const { html } = buildReport(reportInputs(await reportFixture()));
      const text = '日本の首都は？東京です。';
      expect(html).toContain('日本の首都は？');

      // when Chromium draws that text in the page's font
      const glyphs = glyphsOf(await dumpDom(html.replace('</body>', `${glyphCheckScript(text)}</body>`)));

      // then the check can see a missing glyph (two missing code points draw the same box), the page declares a
      // Japanese font, and every character is drawn as a glyph of its own, none as that box
      expect(glyphs.tofuSeen).toBe(true);
      expect(glyphs.family).toMatch(/Noto Sans CJK JP/);
      expect(glyphs).toMatchObject({ chars: [...text].length, drawn: [...text].length });
      expect(glyphs.distinct).toBe(new Set(text).size);
    },
    90_000,
  );

  withJapaneseFont(
    "draws the Japanese inside the charts' SVG (category labels) in a Japanese font, not as empty boxes",
    async () => {
      // given a report whose records' categories are Japanese, so the category chart's labels are
      const categories = ['自由回答', '一般的な質問', '分類', 'ブレインストーミング', '要約'];
      const { html } = buildReport(reportInputs(await reportFixture({ categories })));

      // when Chromium draws each character of the charts' SVG text in that text element's own computed font
      const charts = svgGlyphsOf(await dumpDom(html.replace('</body>', `${svgGlyphCheckScript()}</body>`)));

      // then the category chart has those labels, its text declares the Japanese font itself (not only inherits it
      // from the page: the SVG must hold on its own), the check can see a missing glyph in that font, and every
      // character is drawn as a glyph of its own, none as the box
      const labels = charts.categories!;
      expect(labels.distinctChars).toBe(new Set(categories.join('')).size);
      for (const [chart, g] of Object.entries(charts).filter(([, g]) => g.chars > 0)) {
        expect([chart, [...g.families, ...g.declared].filter((f) => !/Noto Sans CJK JP/.test(f))]).toEqual([chart, []]);
        expect([chart, g.tofuSeen, g.drawn, g.distinct]).toEqual([chart, true, g.chars, g.distinctChars]);
      }
    },
    90_000,
  );
});
