import type * as z from 'zod';

/** An artifact that does not match its schema, or cannot be read: the message names the object key and the place. */
export class ArtifactError extends Error {
  constructor(
    message: string,
    readonly key: string,
  ) {
    super(message);
    this.name = 'ArtifactError';
  }
}

const describe = (error: z.ZodError): string =>
  error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');

/** A value checked against its schema; `where` names the object (its key) and, for a line format, the line. */
export function parseArtifact<S extends z.ZodType>(schema: S, value: unknown, key: string, where = key): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ArtifactError(`${where} does not match its schema: ${describe(parsed.error)}`, key);
  return parsed.data;
}

/** A JSON document (a manifest) read through its schema. */
export function readJsonArtifact<S extends z.ZodType>(schema: S, text: string, key: string): z.infer<S> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ArtifactError(`${key} is not JSON: ${(err as Error).message}`, key);
  }
  return parseArtifact(schema, value, key);
}

/** A JSON document checked against its schema before it is written. */
export const writeJsonArtifact = <S extends z.ZodType>(schema: S, value: z.infer<S>, key: string): string =>
  JSON.stringify(parseArtifact(schema, value, key), null, 2);

/** JSON Lines read through the schema of a line; an error names the key and the line (from 1). */
export function readJsonLines<S extends z.ZodType>(schema: S, text: string, key: string): Array<z.infer<S>> {
  const out: Array<z.infer<S>> = [];
  const lines = text.split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new ArtifactError(`${key} line ${i + 1} is not JSON: ${(err as Error).message}`, key);
    }
    out.push(parseArtifact(schema, value, key, `${key} line ${i + 1}`));
  }
  return out;
}

/** JSON Lines checked line by line against their schema before they are written (small files, off the hot paths). */
export const writeJsonLines = <S extends z.ZodType>(
  schema: S,
  values: ReadonlyArray<z.infer<S>>,
  key: string,
): string =>
  values.map((v, i) => `${JSON.stringify(parseArtifact(schema, v, key, `${key} line ${i + 1}`))}\n`).join('');
