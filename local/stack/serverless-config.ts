import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The parts of `serverless print --format json` the local stack reads. */
export interface ResolvedServerless {
  service: string;
  provider: {
    environment?: Record<string, unknown>;
    region?: string;
    stage?: string;
    memorySize?: number;
    timeout?: number;
  };
  functions: Record<string, ServerlessFunction>;
  resources: { Resources: Record<string, CfnResource> };
  /** serverless-esbuild's settings: esbuild options, with `plugins` as a path to a module that exports them. */
  custom?: { esbuild?: Record<string, unknown> & { plugins?: string } };
}

export interface ServerlessFunction {
  handler: string;
  name?: string;
  timeout?: number;
  memorySize?: number;
  environment?: Record<string, unknown>;
  events?: Array<{ sqs?: SqsEvent; schedule?: unknown }>;
}

export interface SqsEvent {
  arn: unknown;
  batchSize?: number;
  maximumBatchingWindow?: number;
  functionResponseType?: string;
  maximumConcurrency?: number;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

/**
 * Resolves serverless.yml for a stage through the Serverless Framework itself, so variables, plugins and defaults
 * resolve exactly as in a deploy. The result is cached by the file's content (the print takes a few seconds).
 */
export async function loadServerlessConfig(stage = 'local'): Promise<ResolvedServerless> {
  const yml = readFileSync(path.join(PROJECT_ROOT, 'serverless.yml'), 'utf8');
  const digest = createHash('sha256').update(stage).update('\0').update(yml).digest('hex').slice(0, 16);
  const cacheDir = path.join(PROJECT_ROOT, 'node_modules', '.cache', 'btp');
  const cacheFile = path.join(cacheDir, `serverless-${stage}-${digest}.json`);
  if (existsSync(cacheFile)) return JSON.parse(readFileSync(cacheFile, 'utf8')) as ResolvedServerless;

  const bin = path.join(PROJECT_ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js');
  const { stdout } = await promisify(execFile)(process.execPath, [bin, 'print', '--stage', stage, '--format', 'json'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', SLS_DEPRECATION_DISABLE: '*' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const start = stdout.indexOf('{');
  if (start < 0) throw new Error(`serverless print gave no JSON:\n${stdout.slice(0, 2000)}`);
  const config = JSON.parse(stdout.slice(start)) as ResolvedServerless;
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(cacheFile, JSON.stringify(config));
  return config;
}
