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
    for (const s of settings.filter((x) => !x.path.includes('[]') && !x.schema.properties)) {
      expect([s.path, s.schema.default]).toEqual([s.path, at(s.path)]);
    }
  });

  it('is linked from the README', () => {
    expect(readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8')).toContain('(docs/configuration.md)');
  });
});
