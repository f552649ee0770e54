import { requireEnv } from '../aws/clients';
import { catalogDateSetting } from '../catalog/lifecycle';
import type { OrchestrationSettings } from './ports';
import { recordQuotasFromEnv } from './record-limits';

const num = (env: NodeJS.ProcessEnv, name: string, fallback: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`Environment variable ${name} must be a non-negative number, got "${raw}"`);
  return value;
};

/**
 * The orchestration steps' settings from the environment. The defaults suit AWS (jobs take hours: poll every 5
 * minutes, backing off to the 15-minute SQS maximum); the local stack sets BTP_POLL_SECONDS=1 and friends for the
 * emulator's fast clock.
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): OrchestrationSettings {
  return {
    artifactsBucket: requireEnv('BTP_ARTIFACTS_BUCKET', env),
    bedrockRoleArn: requireEnv('BTP_BEDROCK_ROLE_ARN', env),
    pollSeconds: num(env, 'BTP_POLL_SECONDS', 300),
    maxPollSeconds: num(env, 'BTP_MAX_POLL_SECONDS', 900),
    throughputPollSeconds: num(env, 'BTP_THROUGHPUT_POLL_SECONDS', 120),
    queuedRetrySeconds: num(env, 'BTP_QUEUED_RETRY_SECONDS', 600),
    maxQueuedRetrySeconds: num(env, 'BTP_MAX_QUEUED_RETRY_SECONDS', 900),
    throttleRetrySeconds: num(env, 'BTP_THROTTLE_RETRY_SECONDS', 30),
    maxRetrySeconds: num(env, 'BTP_MAX_RETRY_SECONDS', 300),
    maxThrottleRetries: num(env, 'BTP_MAX_THROTTLE_RETRIES', 16),
    staleAfterSeconds: num(env, 'BTP_STALE_AFTER_SECONDS', 1800),
    timeScale: num(env, 'BTP_TIME_SCALE', 1),
    minTtlSeconds: num(env, 'BTP_MIN_TTL_SECONDS', 0),
    recordQuotas: recordQuotasFromEnv(env.BTP_RECORD_QUOTAS),
    ...(catalogDateSetting(env) ? { catalogDate: catalogDateSetting(env) } : {}),
  };
}

/** The day the catalog is read at: the settings' catalog date, else today. */
export const catalogAt = (settings: Pick<OrchestrationSettings, 'catalogDate'>, now: () => Date): Date =>
  settings.catalogDate ? new Date(settings.catalogDate) : now();
