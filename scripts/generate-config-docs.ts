/**
 * Writes docs/configuration.md, the reference of every run configuration setting (its type, default and meaning),
 * from the zod schema in shared/config/run-config.ts and its `.describe()` texts (never written by hand). `--check`
 * writes nothing and exits 1 when the page is missing or stale.
 *
 *   node --import tsx scripts/generate-config-docs.ts [--check]
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { RunConfig } from '../shared/config/run-config';

export const CONFIG_DOC = path.resolve(__dirname, '..', 'docs', 'configuration.md');

/** The part of JSON Schema that zod emits for the run configuration and that the page shows. */
export interface SettingSchema {
  type?: string;
  enum?: unknown[];
  description?: string;
  default?: unknown;
  minimum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, SettingSchema>;
  additionalProperties?: SettingSchema | boolean;
  items?: SettingSchema;
  required?: string[];
}

export interface Setting {
  /** `prep.template.kind`; an array's items are `stages[].…`. */
  path: string;
  schema: SettingSchema;
  /** Required where its group is given (a stage's dataset key); every group itself may be left out. */
  required: boolean;
}

/** The configuration as producers write it: defaults may be left out. */
export const configJsonSchema = (): SettingSchema =>
  z.toJSONSchema(RunConfig, { io: 'input', unrepresentable: 'any' }) as SettingSchema;

/**
 * Every setting, depth first in the schema's order: groups (objects with settings of their own) before their settings.
 */
export function settingsOf(schema: SettingSchema, prefix = ''): Setting[] {
  const out: Setting[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const at = `${prefix}${name}`;
    out.push({ path: at, schema: child, required: !!schema.required?.includes(name) && child.default === undefined });
    if (child.properties) out.push(...settingsOf(child, `${at}.`));
    if (child.items?.properties) out.push(...settingsOf(child.items, `${at}[].`));
  }
  return out;
}

const code = (s: string) => `\`${s}\``;

function typeOf(s: SettingSchema): string {
  if (s.enum) return s.enum.map((v) => code(String(v))).join(' | ');
  const bound =
    s.exclusiveMinimum !== undefined
      ? ` > ${s.exclusiveMinimum}`
      : s.minimum !== undefined && s.minimum > -Number.MAX_SAFE_INTEGER
        ? ` ≥ ${s.minimum}`
        : '';
  if (s.type === 'integer' || s.type === 'number') return `${s.type}${bound}`;
  if (s.type === 'array')
    return `list of ${s.items?.properties ? 'objects' : typeOf(s.items ?? {})}${s.minItems !== undefined ? ` (${s.minItems} to ${s.maxItems ?? 'any'})` : ''}`;
  if (s.type === 'object' && !s.properties) {
    const values = typeof s.additionalProperties === 'object' ? s.additionalProperties : {};
    return `map of string to ${values.type ?? 'any value'}`;
  }
  return s.type ?? 'any';
}

function defaultOf(s: SettingSchema, required: boolean): string {
  if (s.properties) return '';
  if (required) return 'required';
  if (s.default === undefined) return 'absent';
  return code(JSON.stringify(s.default));
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderConfigDoc(): string {
  const settings = settingsOf(configJsonSchema());
  const lines = [
    '# Run configuration',
    '',
    "<!-- Generated from shared/config/run-config.ts by `npm run config:docs`; edit the schema's `.describe()` texts, not this page. -->",
    '',
    "A run's configuration is resolved by ingest, each layer deep-merged over the next: the `config` of a `run.requested`",
    'message, then the sidecar `datasets/<file>.run.json` (`btp run <file> --config run.json` uploads it), then the profile',
    'of the folder under `datasets/` (`pairs/`, `corpus/`), then the defaults below. The resolved configuration is recorded',
    'on the run. Every setting may be left out; `absent` means the setting has no default and is off or derived when left out.',
    '',
    '| setting | type | default | meaning |',
    '|---|---|---|---|',
    ...settings.map(
      ({ path: at, schema, required }) =>
        `| ${code(at)} | ${cell(typeOf(schema))} | ${cell(defaultOf(schema, required))} | ${cell(schema.description ?? '')} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

function main(argv: string[]): number {
  const text = renderConfigDoc();
  const current = existsSync(CONFIG_DOC) ? readFileSync(CONFIG_DOC, 'utf8') : undefined;
  if (argv.includes('--check')) {
    if (current === text) {
      console.log('docs/configuration.md is up to date');
      return 0;
    }
    console.error(`docs/configuration.md is ${current === undefined ? 'missing' : 'stale'}\nRun: npm run config:docs`);
    return 1;
  }
  if (current !== text) writeFileSync(CONFIG_DOC, text);
  console.log(`${current === text ? 'unchanged' : 'wrote'} docs/configuration.md`);
  return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
