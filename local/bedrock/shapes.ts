import { validation } from './errors';

/**
 * Constraints of the request members the emulator checks, as in the service model (docs/bedrock-api.md §3). Patterns
 * are the
 * botocore text; `fullMatch` anchors the whole expression (docs/bedrock-api.md §1 "Patterns"). Kept as a table so a
 * pattern that
 * proves stricter than the live service can be relaxed in one place.
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelCustomizationJob.html
 */
export const PATTERNS = {
  JobName: '[a-zA-Z0-9](-*[a-zA-Z0-9\\+\\-\\.])*',
  CustomModelName: '([0-9a-zA-Z][_-]?){1,63}',
  RoleArn: 'arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+',
  IdempotencyToken: '[a-zA-Z0-9]([-a-zA-Z0-9]{0,254}[a-zA-Z0-9])?',
  BaseModelIdentifier:
    '(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:(([0-9]{12}:custom-model/([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2})/[a-z0-9]{12})|(:foundation-model/[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([:][a-z0-9-]{1,63}){0,2})))|([a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.]?[a-z0-9-]{1,63})([:][a-z0-9-]{1,63}){0,2})|(([0-9a-zA-Z][_-]?)+)',
  S3Uri: "s3://[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:/[-!_*'().a-z0-9A-Z]+(?:/[-!_*'().a-z0-9A-Z]+)*)?/?",
  ProvisionedModelName: '([0-9a-zA-Z][_-]?)+',
  TagKeyOrValue: '[a-zA-Z0-9\\s._:/=+@-]*',
} as const;

export const CUSTOMIZATION_TYPES = [
  'FINE_TUNING',
  'CONTINUED_PRE_TRAINING',
  'DISTILLATION',
  'REINFORCEMENT_FINE_TUNING',
  'IMPORTED',
] as const;

const compiled = new Map<string, RegExp>();
export function fullMatch(pattern: string, value: string): boolean {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`);
    compiled.set(pattern, re);
  }
  return re.test(value);
}

/**
 * Checks of one request body. Messages follow AWS's usual Coral wording ("Value ... at 'jobName' failed to satisfy
 * constraint: ..."); docs/bedrock-api.md §12 notes that wording is not confirmed for Bedrock.
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/CommonErrors.html
 */
export class Checker {
  private readonly errors: string[] = [];

  constructor(private readonly body: Record<string, unknown>) {}

  get(path: string): unknown {
    let value: unknown = this.body;
    for (const key of path.split('.')) {
      if (value === null || typeof value !== 'object') return undefined;
      value = (value as Record<string, unknown>)[key];
    }
    return value;
  }

  required(path: string): this {
    const v = this.get(path);
    if (v === undefined || v === null)
      this.errors.push(`Value null at '${path}' failed to satisfy constraint: Member must not be null`);
    return this;
  }

  string(path: string, opts: { min?: number; max?: number; pattern?: string; enum?: readonly string[] }): this {
    const v = this.get(path);
    if (v === undefined || v === null) return this;
    if (typeof v !== 'string') {
      this.errors.push(`Value at '${path}' failed to satisfy constraint: Member must be a string`);
      return this;
    }
    const len = [...v].length;
    if (opts.min !== undefined && len < opts.min) {
      this.errors.push(
        `Value '${v}' at '${path}' failed to satisfy constraint: Member must have length greater than or equal to ${opts.min}`,
      );
    } else if (opts.max !== undefined && len > opts.max) {
      this.errors.push(
        `Value '${v}' at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${opts.max}`,
      );
    } else if (opts.pattern !== undefined && !fullMatch(opts.pattern, v)) {
      this.errors.push(
        `Value '${v}' at '${path}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${opts.pattern}`,
      );
    } else if (opts.enum && !opts.enum.includes(v)) {
      this.errors.push(
        `Value '${v}' at '${path}' failed to satisfy constraint: Member must satisfy enum value set: [${opts.enum.join(', ')}]`,
      );
    }
    return this;
  }

  integer(path: string, opts: { min?: number }): this {
    const v = this.get(path);
    if (v === undefined || v === null) return this;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.errors.push(`Value at '${path}' failed to satisfy constraint: Member must be an integer`);
    } else if (opts.min !== undefined && v < opts.min) {
      this.errors.push(
        `Value '${v}' at '${path}' failed to satisfy constraint: Member must have value greater than or equal to ${opts.min}`,
      );
    }
    return this;
  }

  list(path: string, opts: { min?: number; max?: number }, each?: (prefix: string) => void): this {
    const v = this.get(path);
    if (v === undefined || v === null) return this;
    if (!Array.isArray(v)) {
      this.errors.push(`Value at '${path}' failed to satisfy constraint: Member must be a list`);
      return this;
    }
    if (opts.min !== undefined && v.length < opts.min) {
      this.errors.push(
        `Value at '${path}' failed to satisfy constraint: Member must have length greater than or equal to ${opts.min}`,
      );
    } else if (opts.max !== undefined && v.length > opts.max) {
      this.errors.push(
        `Value at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${opts.max}`,
      );
    }
    if (each) v.forEach((_, i) => each(`${path}.${i}`));
    return this;
  }

  stringMap(path: string): this {
    const v = this.get(path);
    if (v === undefined || v === null) return this;
    if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
      this.errors.push(`Value at '${path}' failed to satisfy constraint: Member must be a map of strings to strings`);
    }
    return this;
  }

  tags(path: string): this {
    return this.list(path, { max: 200 }, (p) => {
      this.required(`${p}.key`).string(`${p}.key`, { min: 1, max: 128, pattern: PATTERNS.TagKeyOrValue });
      this.required(`${p}.value`).string(`${p}.value`, { max: 256, pattern: PATTERNS.TagKeyOrValue });
    });
  }

  /** Throws one ValidationException listing every failed constraint, as Coral does. */
  done(): void {
    if (this.errors.length === 0) return;
    const n = this.errors.length;
    throw validation(`${n} validation error${n > 1 ? 's' : ''} detected: ${this.errors.join('; ')}`);
  }
}

/** `s3://bucket/key` -> parts; the pattern check comes first, so the URI is well formed here. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? { bucket: rest, key: '' } : { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}
