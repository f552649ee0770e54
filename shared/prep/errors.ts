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
  constructor(
    message: string,
    readonly location: InputLocation = {},
  ) {
    super(message);
    this.name = 'InputError';
  }
}
