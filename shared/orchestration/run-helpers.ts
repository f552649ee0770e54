import type { Run, RunFailure, StageRecord } from '../runs/run';
import type { RunStatus } from '../runs/status';
import type { RunStore } from '../runs/store';

/** The run's stages with one stage record merged (outputs and inputs merged one level deep). */
export function withStage(run: Run, key: string, patch: Partial<StageRecord>): Record<string, StageRecord> {
  const prev: StageRecord = run.stages?.[key] ?? { status: 'pending', attempts: 0 };
  const next: StageRecord = { ...prev, ...patch };
  if (patch.inputs) next.inputs = { ...prev.inputs, ...patch.inputs };
  if (patch.outputs) next.outputs = { ...prev.outputs, ...patch.outputs };
  return { ...run.stages, [key]: next };
}

export const stageOutputs = (run: Run, key: string): Record<string, unknown> => run.stages?.[key]?.outputs ?? {};
export const stageInputs = (run: Run, key: string): Record<string, unknown> => run.stages?.[key]?.inputs ?? {};

/** Fails the run with a clear reason; `undefined` when it had already left `from` (a duplicate delivery). */
export function failRun(
  runs: RunStore,
  run: Run,
  from: RunStatus | readonly RunStatus[],
  failure: { stage: string; reason: string; stageKey?: string; location?: RunFailure['location'] },
  now: Date,
  detail: Record<string, unknown> = {},
): Promise<Run | undefined> {
  const at = now.toISOString();
  const patch: Partial<Run> = { failure: { stage: failure.stage, reason: failure.reason, ...(failure.location ? { location: failure.location } : {}), at } };
  if (failure.stageKey) patch.stages = withStage(run, failure.stageKey, { status: 'failed', endedAt: at });
  return runs.transition(run.runId, from, 'failed', patch, { type: `${failure.stage}.failed`, detail: { reason: failure.reason, ...detail } });
}

const CUSTOM_MODEL_ARN = /^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]+:\d{12}:custom-model\/(.+)\/[a-z0-9]{12}$/;
const FOUNDATION_ARN = /^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]*::foundation-model\/(.+)$/;

/** The catalog id of the base model behind a foundation-model id or ARN or a custom-model ARN (api §12 ARN formats). */
export function baseModelIdOf(identifier: string): string {
  return CUSTOM_MODEL_ARN.exec(identifier)?.[2] ?? FOUNDATION_ARN.exec(identifier)?.[2] ?? identifier;
}
