import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_DOC, configJsonSchema, renderConfigDoc, settingsOf } from '../../../scripts/generate-config-docs';
import { RunConfig } from '../../../shared/config/run-config';

describe('the run configuration reference (docs/configuration.md)', () => {
  const settings = settingsOf(configJsonSchema());

  it('is exactly what the schema generates: change a setting, run `npm run config:docs`, and review the diff', () => {
    expect(readFileSync(CONFIG_DOC, 'utf8')).toBe(renderConfigDoc());
  });

  it('says what every setting means', () => {
    expect(settings.length).toBeGreaterThan(40);
    const undescribed = settings.filter((s) => !s.schema.description?.trim()).map((s) => s.path);
    expect(undescribed).toEqual([]);
  });

  it('shows the defaults a configuration left empty resolves to', () => {
    const resolved = RunConfig.parse({}) as unknown as Record<string, unknown>;
    const at = (p: string) =>
      p.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], resolved);
    // A setting inside an optional object left out (evaluation.judge) takes its default once the object is given.
    const parentGiven = (p: string) => !p.includes('.') || at(p.slice(0, p.lastIndexOf('.'))) !== undefined;
    const checked = settings.filter((x) => !x.path.includes('[]') && !x.schema.properties && parentGiven(x.path));
    expect(checked.length).toBeGreaterThan(40);
    for (const s of checked) {
      expect([s.path, s.schema.default]).toEqual([s.path, at(s.path)]);
    }
    const judge = RunConfig.parse({ evaluation: { judge: { modelId: 'amazon.nova-lite-v1:0' } } }).evaluation.judge;
    for (const s of settings.filter((x) => x.path.startsWith('evaluation.judge.') && x.schema.default !== undefined))
      expect([s.path, s.schema.default]).toEqual([s.path, judge?.[s.path.split('.').at(-1) as keyof typeof judge]]);
  });

  it('is linked from the README', () => {
    expect(readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8')).toContain('(docs/configuration.md)');
  });
});
