import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, MarkLineComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';
import type { LengthBin, LossPoint } from './inputs';

/**
 * A font stack that draws Japanese wherever the viewer has any Japanese font (Noto CJK on Linux, Hiragino on macOS, Yu
 * Gothic or Meiryo on Windows), before the generic family: a generic sans-serif alone may pick a font without the
 * glyphs and draw empty boxes. The page and the charts' SVG text both use it. Names are in single quotes: ECharts
 * writes the stack into each SVG text's `style="..."` attribute unescaped, and a double quote there ended the
 * attribute, so the text only inherited the page's font.
 */
export const FONT_STACK =
  "system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK JP', 'Noto Sans JP', 'Hiragino Sans', " +
  "'Hiragino Kaku Gothic ProN', 'Yu Gothic', Meiryo, sans-serif";

/**
 * Charts are drawn with Apache ECharts' server-side renderer into SVG strings when the report is built, so the page
 * needs no script and no network to show them (ECharts SSR: `renderer: 'svg', ssr: true`, `renderToSVGString()`).
 * Only the parts these charts use are registered, from ECharts' per-part entry points: the whole library
 * (`import * as echarts from 'echarts'`) tripled the report function's bundle
 * (https://echarts.apache.org/handbook/en/basics/import/#shrinking-bundle-size).
 */
echarts.use([BarChart, LineChart, GridComponent, LegendComponent, MarkLineComponent, SVGRenderer]);

type Option = Record<string, unknown>;

const COLORS = { primary: '#2f6fb3', warn: '#c8553d', ok: '#3a8f5c', muted: '#8a94a6', validation: '#d08a1f' };
const BASE: Option = {
  animation: false,
  backgroundColor: '#ffffff',
  textStyle: { fontFamily: FONT_STACK },
};

export function renderSvg(option: Option, width = 720, height = 320): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ ...BASE, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** Input records down to the sets Bedrock trains on: each bar is what is left after the step before it. */
export function funnelChart(stages: Array<{ name: string; value: number }>, unit = 'records'): string {
  const names = stages.map((s) => s.name).reverse();
  return renderSvg(
    {
      grid: { left: 130, right: 70, top: 20, bottom: 30 },
      xAxis: { type: 'value', name: unit },
      yAxis: { type: 'category', data: names },
      series: [
        {
          type: 'bar',
          data: stages.map((s) => s.value).reverse(),
          itemStyle: { color: COLORS.primary },
          label: { show: true, position: 'right' },
        },
      ],
    },
    720,
    Math.max(180, 40 * stages.length + 50),
  );
}

/** Records dropped, by reason (filtered: by a rule; rejected: unreadable). */
export function reasonsChart(byReason: Record<string, number>, unit = 'records'): string {
  const entries = Object.entries(byReason).sort((a, b) => a[1] - b[1]);
  return renderSvg(
    {
      grid: { left: 230, right: 70, top: 20, bottom: 30 },
      xAxis: { type: 'value', name: unit },
      yAxis: { type: 'category', data: entries.map(([r]) => r) },
      series: [
        {
          type: 'bar',
          data: entries.map(([r, n]) => ({
            value: n,
            itemStyle: { color: r.startsWith('rejected') ? COLORS.warn : COLORS.muted },
          })),
          label: { show: true, position: 'right' },
        },
      ],
    },
    720,
    Math.max(160, 32 * entries.length + 50),
  );
}

export function categoryChart(
  byCategory: Record<string, number>,
  bySplit?: Record<string, Record<string, number>>,
  unit = 'records',
): string {
  const cats = Object.entries(byCategory)
    .sort((a, b) => b[1] - a[1])
    .map(([c]) => c);
  const splits = bySplit
    ? [...new Set(Object.values(bySplit).flatMap((s) => Object.keys(s)))].filter((s) => s !== 'total')
    : [];
  // Each bar is the category's eligible records: the sets' shares stacked, then what no set took, so the bars count
  // what the caption and the table count.
  const inSets = (c: string) => splits.reduce((s, split) => s + (bySplit?.[c]?.[split] ?? 0), 0);
  const unsampled = cats.map((c) => Math.max(0, (byCategory[c] ?? 0) - inSets(c)));
  const series = splits.length
    ? [
        ...splits.map((split) => ({
          type: 'bar',
          name: split,
          stack: 'all',
          data: cats.map((c) => bySplit?.[c]?.[split] ?? 0),
        })),
        ...(unsampled.some((n) => n > 0) ? [{ type: 'bar', name: 'not sampled', stack: 'all', data: unsampled }] : []),
      ]
    : [
        {
          type: 'bar',
          name: unit,
          data: cats.map((c) => byCategory[c] ?? 0),
          itemStyle: { color: COLORS.primary },
        },
      ];
  return renderSvg({
    color: [COLORS.primary, COLORS.validation, COLORS.ok, COLORS.muted],
    legend: splits.length ? { top: 0 } : undefined,
    grid: { left: 60, right: 20, top: 40, bottom: 90 },
    xAxis: { type: 'category', data: cats, axisLabel: { rotate: 35, interval: 0 } },
    yAxis: { type: 'value', name: unit },
    series,
  });
}

/** Prompt + completion length; bins past the limit are the ones the filter drops, and the limit is marked. */
export function lengthChart(bins: LengthBin[], limit: number | undefined, unit: string, counted = 'records'): string {
  const labels = bins.map((b) => (b.to > b.from ? `${b.from}–${b.to}` : `${b.from}`));
  const limitBin =
    limit === undefined ? -1 : bins.findIndex((b) => limit >= b.from && limit < Math.max(b.to, b.from + 1));
  const limitLabel =
    limitBin >= 0
      ? labels[limitBin]
      : limit !== undefined && bins.length && limit >= bins.at(-1)!.to
        ? labels.at(-1)
        : undefined;
  return renderSvg({
    grid: { left: 60, right: 30, top: 40, bottom: 70 },
    xAxis: {
      type: 'category',
      data: labels,
      name: unit,
      nameLocation: 'middle',
      nameGap: 50,
      axisLabel: { rotate: 35 },
    },
    yAxis: { type: 'value', name: counted },
    series: [
      {
        type: 'bar',
        barCategoryGap: '5%',
        data: bins.map((b) => ({
          value: b.count,
          itemStyle: { color: limit !== undefined && b.from >= limit ? COLORS.warn : COLORS.primary },
        })),
        markLine:
          limitLabel !== undefined
            ? {
                symbol: 'none',
                silent: true,
                lineStyle: { color: COLORS.warn, type: 'dashed', width: 2 },
                label: { formatter: `limit ${limit}` },
                data: [{ xAxis: limitLabel }],
              }
            : undefined,
      },
    ],
  });
}

export function lossChart(training: LossPoint[], validation: LossPoint[]): string {
  return renderSvg({
    color: [COLORS.primary, COLORS.validation],
    legend: { top: 0 },
    grid: { left: 60, right: 30, top: 40, bottom: 50 },
    xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 30, min: 'dataMin', max: 'dataMax' },
    yAxis: { type: 'value', name: 'loss', scale: true },
    series: [
      {
        type: 'line',
        name: 'training loss',
        showSymbol: training.length <= 50,
        data: training.map((p) => [p.step, p.loss]),
      },
      ...(validation.length
        ? [
            {
              type: 'line',
              name: 'validation loss',
              showSymbol: true,
              symbolSize: 7,
              data: validation.map((p) => [p.step, p.loss]),
            },
          ]
        : []),
    ],
  });
}

/** One score by category, a bar per compared run in each category (Japanese answers, chrF...). */
export function scoreChart(
  categories: string[],
  runs: Array<{ name: string; values: Array<number | null> }>,
  axis: string,
) {
  return renderSvg({
    color: [COLORS.primary, COLORS.validation, COLORS.ok, COLORS.warn, COLORS.muted],
    legend: runs.length > 1 ? { top: 0 } : undefined,
    grid: { left: 60, right: 20, top: 40, bottom: 90 },
    xAxis: { type: 'category', data: categories, axisLabel: { rotate: 35, interval: 0 } },
    yAxis: { type: 'value', name: axis },
    series: runs.map((r) => ({ type: 'bar', name: r.name, data: r.values.map((v) => v ?? 0) })),
  });
}
