import { baseModelIdOf, findBaseModel } from '../catalog/lookup';
import type { ModelFamily } from '../catalog/models';
import type { Run } from '../runs/run';
import type { RunConfig } from '../config/run-config';
import type { BedrockPort, InvokedText } from './ports';

/**
 * What serves a run's custom model, whatever it is: a custom model deployment (on demand, billed per token) or a
 * Provisioned Throughput (billed per hour). Both are invoked by their ARN as the model id (docs/bedrock-api.md §11).
 */
export interface ServedModel {
  arn: string;
  via: 'deployment' | 'provisioned-throughput';
  /** Which request and response bodies InvokeModel takes (the base model's family). */
  family: ModelFamily;
}

/** The run's served model, or undefined when nothing serves it (none bought yet, or deleted). */
export function servedModelOf(
  run: Pick<Run, 'deploymentArn' | 'provisionedModelArn' | 'modelArn' | 'config'>,
): ServedModel | undefined {
  const family = familyOf(run.modelArn ?? run.config.training.baseModelId);
  if (run.deploymentArn) return { arn: run.deploymentArn, via: 'deployment', family };
  if (run.provisionedModelArn) return { arn: run.provisionedModelArn, via: 'provisioned-throughput', family };
  return undefined;
}

/**
 * How the run's model is to be served: `provisioning.serving`, where `auto` follows the catalog (a deployment for
 * Nova, docs/bedrock-api.md §11.4; Provisioned Throughput otherwise).
 */
export function servingFor(
  config: Pick<RunConfig, 'provisioning'>,
  modelIdOrArn: string,
): 'deployment' | 'provisioned-throughput' {
  const chosen = config.provisioning.serving;
  if (chosen !== 'auto') return chosen;
  return findBaseModel(baseModelIdOf(modelIdOrArn))?.lifecycle.serving.value ?? 'provisioned-throughput';
}

/** The family of the base model behind a model id or ARN; Titan's when the catalog does not know it. */
export const familyOf = (modelIdOrArn: string): ModelFamily =>
  findBaseModel(baseModelIdOf(modelIdOrArn))?.family ?? 'titan-text';

/**
 * Sends one prompt to the run's served model and returns the answer text: the one way evaluation, `btp chat` and
 * `btp invoke` call a run's model. Errors are the port's (BedrockCallError kinds); a run with nothing serving it, or
 * a deployment without a runtime client, is an Error saying so.
 */
export async function invokeServedModel(
  bedrock: Pick<BedrockPort, 'invokeText'>,
  run: Pick<Run, 'runId' | 'deploymentArn' | 'provisionedModelArn' | 'modelArn' | 'config'>,
  prompt: string,
  maxTokens: number,
): Promise<InvokedText> {
  const served = servedModelOf(run);
  if (!served) throw new Error(`run ${run.runId} has no deployment or throughput serving its model`);
  if (!bedrock.invokeText) throw new Error('no Bedrock runtime client to invoke the model with');
  return bedrock.invokeText(served.arn, prompt, maxTokens, served.family);
}
