import type { HeldOutCheck } from '../artifacts';

/** What the check reads: the prepared sets' lines, streamed (a training set may be gigabytes). */
export interface SetLines {
  lines(bucket: string, key: string): AsyncIterable<string>;
}

/**
 * What a prepared line is the same record as another by, for the held-out check: its prompt (a fine-tuning record,
 * or a conversation's user turns), or its whole document (continued pre-training). A prompt seen in training with
 * another completion still tells the model the answer's shape, so the prompt alone decides.
 */
export function recordIdentity(line: string): string | undefined {
  const r = preparedRecord(line);
  if (!r) return undefined;
  const prompt = typeof r.prompt === 'string' ? r.prompt : conversationTurns(r)?.prompt;
  return prompt !== undefined ? `p:${prompt}` : typeof r.input === 'string' ? `i:${r.input}` : undefined;
}

/**
 * A conversation record's prompt and answer (Nova's `bedrock-conversation-2024`, Claude's messages): the user turns
 * are the prompt, the assistant's the reference; undefined for a record that is not a conversation with a user turn.
 */
export function conversationTurns(r: Record<string, unknown>): { prompt: string; reference: string } | undefined {
  if (!Array.isArray(r.messages)) return undefined;
  const text = (content: unknown): string =>
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? content
            .map((c) => (c as { text?: unknown } | null)?.text)
            .filter((t) => typeof t === 'string')
            .join('\n')
        : '';
  const turns = r.messages.map((m) => m as { role?: unknown; content?: unknown } | null);
  const of = (role: string) =>
    turns
      .filter((m) => m?.role === role)
      .map((m) => text(m?.content))
      .join('\n');
  const prompt = of('user');
  return prompt === '' ? undefined : { prompt, reference: of('assistant') };
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
