/**
 * A problem with the input file as a whole (its encoding, its structure), found while reading it. It fails the run
 * at ingest, with a message that says what is wrong and where, instead of rejecting records one by one.
 */
export interface InputLocation {
  file?: string;
  line?: number;
  row?: number;
  field?: string;
  /** Byte offset in the (decompressed, decoded) input. */
  offset?: number;
}

export class InputError extends Error {
  /** What to change, naming the setting, where the error knows it; else `hint` gives the general advice. */
  readonly hint: string;
  constructor(
    message: string,
    readonly location: InputLocation = {},
    hint?: string,
  ) {
    super(message);
    this.name = 'InputError';
    this.hint = hint ?? INPUT_HINT;
  }
}

const INPUT_HINT =
  'fix the file where the error points (file, line, field) and upload it again; if its format or encoding was ' +
  'detected wrongly, set prep.format or prep.encoding in the run configuration (docs/configuration.md)';
