import { stageCount, variantConfig } from '../config/run-config';
import { mapLimited } from '../aws/limited';
import { DatasetPrepared } from '../messages/pipeline';
import { runBase } from '../runs/keys';
import { currentStage } from '../runs/record';
import type { ChildRef, Run } from '../runs/run';
import { stageSource } from '../runs/stages';
import { isTerminal } from '../runs/status';
import type { OrchestrationDeps } from './ports';

/**
 * Experiments (config `variants`): one parent run prepares each stage's data once and trains the shared continued
 * pre-training (its stages before the last) once; when its last stage (the fine-tuning data) is prepared, it starts
 * one child run per variant instead of a job of its own. A child is a run like any other (its own status, job,
 * model, throughput, evaluation and report), submitted through the submit queue, so the concurrent-jobs quota queues
 * it as it queues any run. The parent stays `training` while its children run and ends when the last of them ends.
 */

/** A variant's child run id: the parent's id and the variant's place, so every delivery names the same child. */
export const childRunId = (parentRunId: string, index: number): string => `${parentRunId}-v${index}`;

/** Whether the run is an experiment at the stage where it starts its variants (its last, the fine-tuning). */
export const startsVariants = (run: Pick<Run, 'config' | 'stages'>): boolean =>
  run.config.variants !== undefined && currentStage(run) === stageCount(run.config) - 1;

/**
 * The child runs of an experiment whose last stage is prepared, as they are created: `submitting`, on the parent's
 * prepared data of that stage (the prepare record points at the parent's files, which are not copied), the variant's
 * configuration, and, for a variant with `continuedPreTraining`, a first job that starts from the shared
 * pre-training's model (the last job of the parent's stage before the last).
 */
export function variantRuns(parent: Run, at: string, artifactsBucket: string): Run[] {
  const variants = parent.config.variants ?? [];
  const last = stageCount(parent.config) - 1;
  const prepare = parent.stages[last]?.prepare;
  if (prepare?.status !== 'done' || !prepare.split)
    throw new Error(`run ${parent.runId}: stage ${last} is not prepared, so its variants cannot start`);
  const pretrainedModel = last > 0 ? parent.stages[last - 1]?.jobs.at(-1)?.modelArn : undefined;
  const source = stageSource(parent, last);
  return variants.map((variant, index) => {
    const runId = childRunId(parent.runId, index);
    const config = variantConfig(parent.config, variant);
    if (variant.continuedPreTraining && !pretrainedModel)
      throw new Error(
        `run ${parent.runId}: variant ${variant.name} needs the pre-training model, which is not recorded`,
      );
    const pretrained = variant.continuedPreTraining ? { stage: last - 1, modelArn: pretrainedModel! } : undefined;
    return {
      runId,
      status: 'submitting',
      version: 1,
      createdAt: at,
      updatedAt: at,
      source,
      config: { ...config, labels: { ...config.labels, experiment: parent.runId, variant: variant.name } },
      artifactsPrefix: `s3://${artifactsBucket}/${runBase(runId)}`,
      stages: [
        {
          prepare,
          jobs: [
            { status: 'pending', attempt: 1, ...(pretrained ? { baseModelIdentifier: pretrained.modelArn } : {}) },
          ],
        },
      ],
      ...(parent.promptFile ? { promptFile: parent.promptFile } : {}),
      parentRunId: parent.runId,
      variant: {
        name: variant.name,
        index,
        hyperParameters: config.training.hyperParameters,
        ...(pretrained ? { pretrained } : {}),
      },
    } satisfies Run;
  });
}

/** Children announced to the submit queue at once (the quota, not this, limits how many train together). */
const ANNOUNCE_AT_ONCE = 10;

/**
 * Starts an experiment's variants, once: creates each child run (a child already there is left as it is), tells the
 * submit queue each child's data is prepared, then moves the parent `submitting -> training` with its children
 * listed. A crash part-way leaves the parent `submitting`; its redelivery creates what is missing and announces every
 * child again (submit is idempotent on a child). `false` when another delivery moved the parent first.
 */
export async function startVariants(
  parent: Run,
  deps: Pick<OrchestrationDeps, 'runs' | 'send' | 'settings' | 'now'>,
  correlationId?: string,
): Promise<boolean> {
  const { runs, send, settings, now } = deps;
  const children = variantRuns(parent, now().toISOString(), settings.artifactsBucket);
  for (const child of children)
    await runs.create(child, {
      type: 'variant.started',
      detail: { parentRunId: parent.runId, variant: child.variant!.name, pretrained: child.variant!.pretrained },
    });
  await mapLimited(children, ANNOUNCE_AT_ONCE, (child) =>
    send(
      DatasetPrepared,
      child.runId,
      { manifestKey: child.stages[0]!.prepare.split!.manifestKey, stage: 0 },
      { correlationId: correlationId ?? parent.runId },
    ),
  );
  const refs: ChildRef[] = children.map((c) => ({ runId: c.runId, variant: c.variant!.name }));
  // The parent's last stage trains no job of its own (the monitor recorded a pending one when the stage began).
  const stages = parent.stages.map((s, n) => (n === currentStage(parent) ? { ...s, jobs: [] } : s));
  const moved = await runs.transition(
    parent.runId,
    'submitting',
    'training',
    { children: refs, stages },
    { type: 'variants.started', detail: { children: refs } },
  );
  return moved !== undefined;
}

export type SettleOutcome = 'not-a-variant' | 'waiting' | 'settled' | 'already-settled';

/**
 * Called when a child run ends (the report function hears of every ended run): once every child of its experiment has
 * ended, the parent ends too, `succeeded` when every child succeeded, else `failed` naming the children that did not.
 * Each child's end is written before it is announced, so the announcement of the last child to end finds every child
 * ended; two announcements that both do race on the parent's version and one wins.
 */
export async function settleExperiment(
  child: Pick<Run, 'runId' | 'status' | 'parentRunId'>,
  { runs, now }: Pick<OrchestrationDeps, 'runs' | 'now'>,
): Promise<SettleOutcome> {
  if (!child.parentRunId || !isTerminal(child.status)) return 'not-a-variant';
  const parent = await runs.get(child.parentRunId);
  if (!parent?.children || parent.status !== 'training') return 'already-settled';
  const children = await Promise.all(parent.children.map((c) => runs.get(c.runId)));
  if (children.some((c) => !c || !isTerminal(c.status))) return 'waiting';
  const ended = children as Run[];
  const detail = { children: Object.fromEntries(ended.map((c) => [c.variant?.name ?? c.runId, c.status])) };
  const missed = ended.filter((c) => c.status !== 'succeeded');
  const moved = missed.length
    ? await runs.transition(
        parent.runId,
        'training',
        'failed',
        {
          failure: {
            stage: 'variants',
            reason:
              `${missed.length} of ${ended.length} variants did not succeed: ` +
              missed
                .map(
                  (c) =>
                    `${c.variant?.name ?? c.runId} (${c.runId}) ${c.status}${c.failure ? `: ${c.failure.reason}` : ''}`,
                )
                .join('; '),
            at: now().toISOString(),
          },
        },
        { type: 'variants.ended', detail },
      )
    : await runs.transition(parent.runId, 'training', 'succeeded', {}, { type: 'variants.ended', detail });
  return moved ? 'settled' : 'already-settled';
}
