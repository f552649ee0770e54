/**
 * One CSV/TSV record (RFC 4180: fields in double quotes may hold the delimiter, newlines and doubled quotes) into
 * its fields. Returns a string describing the problem when the record is malformed.
 */
export function parseDelimited(record: string, delimiter: string): string[] | { error: string } {
  const fields: string[] = [];
  const n = record.length;
  let i = 0;
  for (;;) {
    if (record[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = record.indexOf('"', i);
        if (q === -1) return { error: 'a quoted field is not closed' };
        value += record.slice(i, q);
        if (record[q + 1] === '"') {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === n) return fields;
      if (record[i] !== delimiter)
        return { error: `unexpected character '${record[i]}' after a quoted field (field ${fields.length})` };
      i++;
    } else {
      const d = record.indexOf(delimiter, i);
      const end = d === -1 ? n : d;
      fields.push(record.slice(i, end));
      if (d === -1) return fields;
      i = d + 1;
    }
    if (i === n) {
      fields.push('');
      return fields;
    }
  }
}
