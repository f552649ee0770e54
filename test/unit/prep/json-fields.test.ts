import { FlatObjectReader, writePrefixJson, type FieldRange } from '../../../shared/prep/json-fields';
import { prefix } from '../../../shared/prep/text';

/** The reader's fields as a map from wanted key to range, or undefined when it does not take the record. */
function readFlatObject(b: Buffer, wanted: ReadonlySet<string>): Map<string, FieldRange> | undefined {
  const reader = new FlatObjectReader([...wanted]);
  if (!reader.read(b)) return undefined;
  const out = new Map<string, FieldRange>();
  reader.names.forEach((name, k) => reader.fields[k] && out.set(name, reader.fields[k]));
  return out;
}

describe('the byte path of JSON records', () => {
  it('given texts of every kind, the escaped head built from bytes is the one JSON.stringify(prefix(text)) holds', () => {
    const out = Buffer.alloc(4096);
    const texts = [
      '',
      'short "q" \\ \t\r\u0001\u007f',
      'x'.repeat(119) + '😀tail',
      'x'.repeat(118) + '😀tail',
      'あ'.repeat(200),
      '𠮷'.repeat(70),
      'a'.repeat(120),
    ];
    for (const t of texts) {
      const end = writePrefixJson(Buffer.from(t), 120, out, 0);
      expect(out.toString('utf8', 0, end)).toBe(JSON.stringify(prefix(t)).slice(1, -1));
    }
  });

  it('given a record this reader does not fully check, it answers undefined so the record is parsed as before', () => {
    const wanted = new Set(['instruction', 'output']);
    expect(readFlatObject(Buffer.from('{"instruction":"a","output":"b"}'), wanted)?.get('output')).toMatchObject({
      chars: 1,
      blank: false,
    });
    expect(
      readFlatObject(Buffer.from('{"instruction":"\u3000","output":"b"}'), wanted)?.get('instruction'),
    ).toMatchObject({ chars: 1, blank: true });
    for (const bad of [
      '{"instruction":1}',
      '{"instruction":"\\ud83d\\ude00"}',
      '{"instruction":"a",}',
      '{"instruction":"a"}x',
      '{"instruction":"\\x"}',
      '{}',
      '{"instruction":"a\tb"}',
      // A wanted key given twice: JSON.parse checks the first value too (this one's escape is bad) and takes the last.
      '{"instruction":"\\x","instruction":"a","output":"b"}',
      '{"instruction":"a","output":"b","output":"c"}',
    ]) {
      expect(readFlatObject(Buffer.from(bad), wanted)).toBeUndefined();
    }
  });
});
