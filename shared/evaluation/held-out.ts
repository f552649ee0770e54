import type { HeldOutCheck } from '../artifacts';

/** What the check reads: the prepared sets' lines, streamed (a training set may be gigabytes). */
export interface SetLines {
  lines(bucket: string, key: string): AsyncIterable<string>;
}

/**
 * What a prepared line is the same record as another by, for the held-out check: its prompt (a fine-tuning record),
 * or its whole document (continued pre-training). A prompt seen in training with another completion still tells the
 * model the answer's shape, so the prompt alone decides.
 */
export function recordIdentity(line: string): string | undefined {
  const r = preparedRecord(line);
  return typeof r?.prompt === 'string' ? `p:${r.prompt}` : typeof r?.input === 'string' ? `i:${r.input}` : undefined;
}

/** A line of a prepared set as an object, or undefined when it is not a JSON object. */
export function preparedRecord(line: string): Record<string, unknown> | undefined {
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    return undefined;
  }
  return typeof rec === 'object' && rec !== null && !Array.isArray(rec) ? (rec as Record<string, unknown>) : undefined;
}

/**
 * Proves the test records evaluated are held out: reads every line of the training and validation sets the model was
 * trained on and looks for the test records' identities there. Split already keeps the sets apart by content key,
 * so `overlapping` is 0 unless duplicates were kept (`prep.filters.dropDuplicates: false`) or the sets were changed
 * by hand; the check says so from the data, not from that argument. A chained run's test set is its last stage's,
 * checked against that stage's sets (a stage trained in parts trains on parts of the same training set).
 */
export async function checkHeldOut(
  objects: SetLines,
  bucket: string,
  test: { key: string; lines: ReadonlyArray<{ index: number; line: string }> },
  sets: ReadonlyArray<{ key: string }>,
): Promise<HeldOutCheck> {
  const byIdentity = new Map<string, number[]>();
  for (const { index, line } of test.lines) {
    const id = recordIdentity(line);
    if (id !== undefined) byIdentity.set(id, [...(byIdentity.get(id) ?? []), index]);
  }
  const found = new Set<number>();
  const against: HeldOutCheck['against'] = [];
  for (const { key } of sets) {
    let records = 0;
    for await (const line of objects.lines(bucket, key)) {
      if (line.trim() === '') continue;
      records++;
      const id = recordIdentity(line);
      for (const index of (id !== undefined && byIdentity.get(id)) || []) found.add(index);
    }
    against.push({ key, records });
  }
  const overlapping = [...found].sort((a, b) => a - b);
  return {
    testKey: test.key,
    checked: test.lines.length,
    against,
    overlapping: overlapping.length,
    overlappingIndexes: overlapping.slice(0, 20),
  };
}
