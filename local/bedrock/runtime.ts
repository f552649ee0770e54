import { estimateTokens } from '../../shared/catalog';
import { answerText, type LineageStep } from './answers';
import type { ControlPlane } from './control-plane';
import { BedrockError, notFound, validation } from './errors';

const PROVISIONED_ARN = /^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:provisioned-model\/[a-z0-9]{12}$/;
const CUSTOM_MODEL_ARN = /^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:custom-model\//;
const DEFAULT_MAX_TOKEN_COUNT = 512;

/**
 * InvokeModel on a Provisioned Throughput. No model runs: the answer is drawn from the custom model's training data
 * by the deterministic rules of answers.ts (docs/bedrock-emulator.md, "Answers"), cut to `maxTokenCount`, in the Titan
 * response shape (docs/bedrock-api.md §11.2). An `emulation` member (which the SDK passes
 * through
 * untouched in the raw body) says so, so no one mistakes it for a model's output.
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-text.html
 */
export function invokeModel(
  plane: ControlPlane,
  modelId: string,
  body: Buffer,
): { contentType: string; body: unknown } {
  if (CUSTOM_MODEL_ARN.test(modelId)) {
    throw validation(
      'Custom models can only be accessed using Provisioned Throughput: invoke the provisioned model ARN.',
    );
  }
  const tp = PROVISIONED_ARN.test(modelId) ? plane.throughputs.get(modelId) : undefined;
  if (!tp) {
    if (PROVISIONED_ARN.test(modelId)) throw notFound(`The provisioned model ${modelId} could not be found.`);
    throw validation(
      `The provided model identifier is invalid. (Bedrock emulator: only provisioned custom models can be invoked; ${modelId} is not one.)`,
    );
  }
  if (tp.status !== 'InService') {
    throw validation(`The provisioned model ${tp.name} is not ready: its status is ${tp.status}.`);
  }
  const family = tp.model.job.baseModel.family;
  if (family !== 'titan-text') {
    throw new BedrockError(
      'ValidationException',
      400,
      `Bedrock emulator: InvokeModel is emulated only for Titan text models, not ${family}.`,
    );
  }
  return {
    contentType: 'application/json',
    body: titanResponse(tp.model.lineage, tp.model.job.baseModel.maxOutputTokensAtInference.value, body),
  };
}

/**
 * The Titan Text request and response bodies (docs/bedrock-api.md §11.2). The "Malformed input request" wording is the
 * text Bedrock
 * gives for a body the model's schema rejects (https://repost.aws/knowledge-center/bedrock-validation-exception-errors).
 */
function titanResponse(lineage: LineageStep[], maxAllowed: number | null, raw: Buffer) {
  let request: { inputText?: unknown; textGenerationConfig?: { maxTokenCount?: unknown } };
  try {
    request = JSON.parse(raw.toString('utf8'));
  } catch {
    throw validation('Malformed input request: the body is not valid JSON, please reformat your input and try again.');
  }
  if (typeof request?.inputText !== 'string') {
    throw validation(
      'Malformed input request: #: required key [inputText] not found, please reformat your input and try again.',
    );
  }
  const configured = request.textGenerationConfig?.maxTokenCount;
  const maxTokenCount = configured === undefined ? DEFAULT_MAX_TOKEN_COUNT : configured;
  if (typeof maxTokenCount !== 'number' || !Number.isInteger(maxTokenCount) || maxTokenCount < 0) {
    throw validation(
      'Malformed input request: #/textGenerationConfig/maxTokenCount: expected an integer, please reformat your input and try again.',
    );
  }
  if (maxAllowed !== null && maxTokenCount > maxAllowed) {
    throw validation(
      `Malformed input request: #/textGenerationConfig/maxTokenCount: ${maxTokenCount} is not less or equal to ${maxAllowed}, please reformat your input and try again.`,
    );
  }
  const input = request.inputText;
  const answer = answerText(lineage, input, maxTokenCount);
  const { text, truncated } = answer;
  return {
    inputTextTokenCount: estimateTokens(input),
    results: [
      { tokenCount: estimateTokens(text), outputText: text, completionReason: truncated ? 'LENGTH' : 'FINISHED' },
    ],
    emulation: {
      note:
        "Bedrock emulator: no model ran; outputText is drawn from this custom model's training data by the rules in " +
        'docs/bedrock-emulator.md (Answers).',
      trainingExample: answer.trainingExample,
      matchedPrompt: answer.matchedPrompt,
      rules: answer.rules,
    },
  };
}
