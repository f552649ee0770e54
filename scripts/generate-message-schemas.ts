/**
 * Writes docs/messages/<type>.v<version>.json, the JSON Schema of every public message, from the zod schemas in
 * shared/messages/registry.ts (never written by hand). `--check` writes nothing and exits 1 when a file is missing,
 * stale or left over, so a schema cannot change without the published file changing in the same commit.
 *
 *   node --import tsx scripts/generate-message-schemas.ts [--check]
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { PUBLIC_MESSAGES, schemaFileName, type PublicMessage } from '../shared/messages/registry';

export const MESSAGES_DIR = path.resolve(__dirname, '..', 'docs', 'messages');

/**
 * One message's JSON Schema: producers are held to the input form (defaults may be left out), consumers get the output.
 */
export function messageJsonSchema(m: PublicMessage): Record<string, unknown> {
  const generated = z.toJSONSchema(m.definition.schema, {
    io: m.direction === 'in' ? 'input' : 'output',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: `https://schemas.bedrock-tuning-pipeline.local/messages/${schemaFileName(m)}`,
    title: `${m.definition.type} v${m.definition.version}`,
    description: m.description,
    'x-direction': m.direction === 'in' ? 'posted by other teams' : 'published by the pipeline',
    'x-channel': m.channel,
    ...rest,
    examples: [m.example],
  };
}

/** Every file docs/messages should hold, by name, as it should read. */
export function renderMessageSchemas(): Map<string, string> {
  return new Map(PUBLIC_MESSAGES.map((m) => [schemaFileName(m), `${JSON.stringify(messageJsonSchema(m), null, 2)}\n`]));
}

const isSchemaFile = (f: string) => /^[a-z.]+\.v\d+\.json$/.test(f);

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const wanted = renderMessageSchemas();
  const present = existsSync(MESSAGES_DIR) ? readdirSync(MESSAGES_DIR).filter(isSchemaFile) : [];
  const problems: string[] = [];
  if (!check) mkdirSync(MESSAGES_DIR, { recursive: true });
  for (const [file, text] of wanted) {
    const target = path.join(MESSAGES_DIR, file);
    const current = existsSync(target) ? readFileSync(target, 'utf8') : undefined;
    if (current === text) continue;
    if (check) problems.push(`${file} is ${current === undefined ? 'missing' : 'stale'}`);
    else {
      writeFileSync(target, text);
      console.log(`wrote docs/messages/${file}`);
    }
  }
  for (const file of present.filter((f) => !wanted.has(f))) {
    if (check) problems.push(`${file} matches no message in shared/messages/registry.ts`);
    else {
      unlinkSync(path.join(MESSAGES_DIR, file));
      console.log(`removed docs/messages/${file}`);
    }
  }
  if (problems.length) {
    console.error(`docs/messages is out of date:\n  ${problems.join('\n  ')}\nRun: npm run messages:schemas`);
    return 1;
  }
  if (check) console.log(`docs/messages is up to date (${wanted.size} schemas)`);
  return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
