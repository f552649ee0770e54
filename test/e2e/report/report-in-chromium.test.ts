import { buildReport } from '../../../shared/report/build-report';
import { reportFixture, reportInputs } from '../../unit/report/report-fixture';
import { chartsDrawn, CHROMIUM, dumpDom, hasChromium } from './chromium';

// The charts are SVG drawn at build time; this checks a real browser lays them out, offline. CI installs Debian's
// chromium; without it the test is reported as skipped, with this message, never passed silently.
if (!hasChromium)
  console.warn(
    `SKIPPED: ${CHROMIUM} is not installed (apt-get install -y chromium); the report is not checked in a browser`,
  );
const withChromium = hasChromium ? it : it.skip;

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
});
