import type { OrchestrationSettings } from './ports';

/** SQS caps DelaySeconds at 900 (15 minutes); a longer wait is re-delayed by the consumer. */
export const MAX_SQS_DELAY_SECONDS = 900;

export interface BackoffOptions {
  baseSeconds: number;
  maxSeconds: number;
  /** Share of the delay that is randomised (full jitter would be 1), so retries of many runs spread out. */
  jitter?: number;
  random?: () => number;
}

/** Exponential backoff with jitter: base x 2^retry, capped, then reduced by up to `jitter` of itself. */
export function backoffSeconds(
  retry: number,
  { baseSeconds, maxSeconds, jitter = 0.2, random = Math.random }: BackoffOptions,
): number {
  const raw = Math.min(maxSeconds, baseSeconds * 2 ** Math.max(0, retry));
  return Math.max(0, Math.round(raw * (1 - jitter * random())));
}

/** A wait split into SQS-sized delays: the delay to use now, and whether the message must be delayed again after it. */
export function sqsDelay(remainingSeconds: number): { delaySeconds: number; final: boolean } {
  const delaySeconds = Math.max(0, Math.ceil(Math.min(MAX_SQS_DELAY_SECONDS, remainingSeconds)));
  return { delaySeconds, final: remainingSeconds <= MAX_SQS_DELAY_SECONDS };
}

type RetrySettings = Pick<
  OrchestrationSettings,
  'throttleRetrySeconds' | 'maxRetrySeconds' | 'queuedRetrySeconds' | 'maxQueuedRetrySeconds'
>;

/**
 * The wait before retry number `retry` of a throttled or transient Bedrock call: doubling from throttleRetrySeconds
 * to the maxRetrySeconds ceiling, less up to half of itself at random, so the retries of many runs that failed
 * together spread out instead of coming back together
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
 */
export const retryDelaySeconds = (retry: number, settings: RetrySettings, random?: () => number): number =>
  backoffSeconds(retry, {
    baseSeconds: settings.throttleRetrySeconds,
    maxSeconds: settings.maxRetrySeconds,
    jitter: 0.5,
    ...(random ? { random } : {}),
  });

/** The wait before retry number `retry` of a run queued for a slot (a customization job, a throughput). */
export const queuedDelaySeconds = (retry: number, settings: RetrySettings, random?: () => number): number =>
  Math.max(
    1,
    backoffSeconds(retry, {
      baseSeconds: settings.queuedRetrySeconds,
      maxSeconds: settings.maxQueuedRetrySeconds,
      jitter: 0.5,
      ...(random ? { random } : {}),
    }),
  );
