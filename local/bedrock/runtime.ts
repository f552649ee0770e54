import { estimateTokens, findByInferenceId, type BaseModel, type ModelFamily } from '../../shared/catalog';
import { answerText, baseAnswerText, judgeAnswerText } from './answers';
import type { ControlPlane, CustomModel } from './control-plane';
import { notFound, validation } from './errors';
import { hash } from './metrics';

const PROVISIONED_ARN = /^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:provisioned-model\/[a-z0-9]{12}$/;
const DEPLOYMENT_ARN = /^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:custom-model-deployment\/[a-z0-9]{12}$/;
const CUSTOM_MODEL_ARN = /^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:custom-model\//;
/** The emulator's output cap when a request names none (Titan documents 512; the others' defaults vary). */
const DEFAULT_MAX_TOKENS = 512;
const NOTE =
  "Bedrock emulator: no model ran; the text is drawn from this custom model's training data by the rules in " +
  'docs/bedrock-emulator.md (Answers).';

/**
 * InvokeModel on a served custom model: a Provisioned Throughput ARN, or a custom model deployment ARN (on-demand,
 * docs/bedrock-api.md §11.4). Nothing is generated: answers.ts picks the text, and the model family's request
 * and response shapes (docs/bedrock-api.md §11.2) wrap it, with an `emulation` member (which the SDK passes through
 * untouched in the raw body) saying so, so no one mistakes it for a model's output.
 */
export function invokeModel(
  plane: ControlPlane,
  modelId: string,
  body: Buffer,
): { contentType: string; body: unknown } {
  const onDemand = findByInferenceId(modelId);
  if (onDemand) return invokeBaseModel(plane, onDemand, modelId, body);
  const model = servedModel(plane, modelId);
  const base = model.job.baseModel;
  plane.requireLive(base, modelId);
  const shape = FAMILY_SHAPES[base.family];
  const request = shape.read(parseJson(body), base.maxOutputTokensAtInference.value);
  // The text is answers.ts's (the one place that decides what a model "says"); the family shape only wraps it.
  const answer = answerText(model.lineage, request.prompt, request.maxTokens);
  const out = { prompt: request.prompt, text: answer.text, truncated: answer.truncated, modelId };
  const { trainingExample, matchedPrompt, rules } = answer;
  return {
    contentType: 'application/json',
    body: { ...shape.write(out), emulation: { note: NOTE, trainingExample, matchedPrompt, rules } },
  };
}

const BASE_NOTE =
  'Bedrock emulator: no model ran; a base model answers by the base-model rule of docs/bedrock-emulator.md (Answers).';
const JUDGE_NOTE =
  'Bedrock emulator: no model ran; the grades are the judge rule of docs/bedrock-emulator.md (Answers), computed ' +
  "from the answer's Japanese share and its chrF against the reference: a deterministic rule, not a model's opinion.";

/**
 * InvokeModel on a base model by its on-demand inference id (the catalog's `inferenceId`), as the evaluation's
 * comparison with the base model and the judge model (config `evaluation.judge`) do. The model's lifecycle holds:
 * an end-of-life model is refused as it is for customization.
 */
function invokeBaseModel(plane: ControlPlane, base: BaseModel, modelId: string, body: Buffer) {
  plane.requireLive(base, modelId);
  const shape = FAMILY_SHAPES[base.family];
  const request = shape.read(parseJson(body), base.maxOutputTokensAtInference.value);
  // The judge's rubric gets grades by the judge rule, whichever model is asked; any other prompt the base-model rule.
  const judged = judgeAnswerText(request.prompt, request.maxTokens);
  const answer = judged ?? baseAnswerText(base.family, request.prompt, request.maxTokens);
  const out = { prompt: request.prompt, text: answer.text, truncated: answer.truncated, modelId };
  return {
    contentType: 'application/json',
    body: { ...shape.write(out), emulation: { note: judged ? JUDGE_NOTE : BASE_NOTE, rules: answer.rules } },
  };
}

/** The custom model behind a served model id, or Bedrock's refusal. */
function servedModel(plane: ControlPlane, modelId: string): CustomModel {
  if (CUSTOM_MODEL_ARN.test(modelId)) {
    throw validation(
      'Custom models can only be invoked through Provisioned Throughput or a custom model deployment: invoke its ARN.',
    );
  }
  if (DEPLOYMENT_ARN.test(modelId)) {
    const d = plane.deployments.get(modelId);
    if (!d) throw notFound(`The custom model deployment ${modelId} could not be found.`);
    if (d.status !== 'Active')
      throw validation(`The custom model deployment ${d.name} is not ready: its status is ${d.status}.`);
    return d.model;
  }
  const tp = PROVISIONED_ARN.test(modelId) ? plane.throughputs.get(modelId) : undefined;
  if (!tp) {
    if (PROVISIONED_ARN.test(modelId)) throw notFound(`The provisioned model ${modelId} could not be found.`);
    throw validation(
      `The provided model identifier is invalid. (Bedrock emulator: only served custom models can be invoked; ${modelId} is not one.)`,
    );
  }
  if (tp.status !== 'InService' && tp.status !== 'Updating') {
    throw validation(`The provisioned model ${tp.name} is not ready: its status is ${tp.status}.`);
  }
  return tp.model;
}

interface ShapeRequest {
  /** The text the samples are matched on: as the dataset reader joins a record's input (system, then user turns). */
  prompt: string;
  maxTokens: number;
}
interface ShapeAnswer {
  prompt: string;
  text: string;
  truncated: boolean;
  modelId: string;
}
interface FamilyShape {
  read(request: Record<string, unknown>, maxAllowed: number | null): ShapeRequest;
  write(answer: ShapeAnswer): Record<string, unknown>;
}

/**
 * "Malformed input request" is the text Bedrock gives for a body the model's schema rejects
 * (https://repost.aws/knowledge-center/bedrock-validation-exception-errors).
 */
const malformed = (what: string) =>
  validation(`Malformed input request: ${what}, please reformat your input and try again.`);

function parseJson(raw: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw malformed('the body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('#: expected an object');
  return value as Record<string, unknown>;
}

function limit(path: string, given: unknown, maxAllowed: number | null): number {
  const n = given === undefined ? DEFAULT_MAX_TOKENS : given;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw malformed(`${path}: expected an integer`);
  if (maxAllowed !== null && n > maxAllowed) throw malformed(`${path}: ${n} is not less or equal to ${maxAllowed}`);
  return n;
}

/** The text of `[{text}]` blocks (Nova) or of a string or `[{type: 'text', text}]` (Claude). */
function blocksText(content: unknown, path: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw malformed(`${path}: expected an array`);
  return content
    .map((c, i) => {
      const t = (c as { text?: unknown } | null)?.text;
      if (typeof t !== 'string') throw malformed(`${path}/${i}/text: expected a string`);
      return t;
    })
    .join('\n');
}

/** User turns after the system text, as local/bedrock/dataset.ts joins a conversation record's input. */
function conversationPrompt(request: Record<string, unknown>, system: string): string {
  const messages = request.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    throw malformed('#: required key [messages] not found or empty');
  let prompt = system;
  for (const [i, m] of messages.entries()) {
    const msg = m as { role?: unknown; content?: unknown } | null;
    if (msg?.role !== 'user' && msg?.role !== 'assistant')
      throw malformed(`#/messages/${i}/role: expected user or assistant`);
    const text = blocksText(msg.content, `#/messages/${i}/content`);
    if (msg.role === 'user') prompt += text;
  }
  return prompt;
}

const usage = (a: ShapeAnswer) => ({ input: estimateTokens(a.prompt), output: estimateTokens(a.text) });

/**
 * Each catalogued family's InvokeModel body (the model-parameters pages of the Bedrock user guide):
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters.html
 */
export const FAMILY_SHAPES: Record<ModelFamily, FamilyShape> = {
  // https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-text.html
  'titan-text': {
    read(r, maxAllowed) {
      if (typeof r.inputText !== 'string') throw malformed('#: required key [inputText] not found');
      const config = r.textGenerationConfig as { maxTokenCount?: unknown } | undefined;
      return {
        prompt: r.inputText,
        maxTokens: limit('#/textGenerationConfig/maxTokenCount', config?.maxTokenCount, maxAllowed),
      };
    },
    write(a) {
      const u = usage(a);
      return {
        inputTextTokenCount: u.input,
        results: [{ tokenCount: u.output, outputText: a.text, completionReason: a.truncated ? 'LENGTH' : 'FINISHED' }],
      };
    },
  },
  // https://docs.aws.amazon.com/nova/latest/userguide/complete-request-schema.html
  'amazon-nova': {
    read(r, maxAllowed) {
      const system = r.system === undefined ? '' : blocksText(r.system, '#/system');
      const config = r.inferenceConfig as { maxTokens?: unknown; max_new_tokens?: unknown } | undefined;
      return {
        prompt: conversationPrompt(r, system),
        maxTokens: limit('#/inferenceConfig/maxTokens', config?.maxTokens ?? config?.max_new_tokens, maxAllowed),
      };
    },
    write(a) {
      const u = usage(a);
      return {
        output: { message: { role: 'assistant', content: [{ text: a.text }] } },
        stopReason: a.truncated ? 'max_tokens' : 'end_turn',
        usage: { inputTokens: u.input, outputTokens: u.output, totalTokens: u.input + u.output },
      };
    },
  },
  // https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-cohere-command.html
  'cohere-command': {
    read(r, maxAllowed) {
      if (typeof r.prompt !== 'string') throw malformed('#: required key [prompt] not found');
      return { prompt: r.prompt, maxTokens: limit('#/max_tokens', r.max_tokens, maxAllowed) };
    },
    write(a) {
      return {
        id: `emulated-${hash(a.prompt)}`,
        prompt: a.prompt,
        generations: [
          { id: `emulated-${hash(a.text)}`, text: a.text, finish_reason: a.truncated ? 'MAX_TOKENS' : 'COMPLETE' },
        ],
      };
    },
  },
  // https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-meta.html
  'meta-llama': {
    read(r, maxAllowed) {
      if (typeof r.prompt !== 'string') throw malformed('#: required key [prompt] not found');
      return { prompt: r.prompt, maxTokens: limit('#/max_gen_len', r.max_gen_len, maxAllowed) };
    },
    write(a) {
      const u = usage(a);
      return {
        generation: a.text,
        prompt_token_count: u.input,
        generation_token_count: u.output,
        stop_reason: a.truncated ? 'length' : 'stop',
      };
    },
  },
  // https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages.html
  'anthropic-claude': {
    read(r, maxAllowed) {
      if (r.max_tokens === undefined) throw malformed('#: required key [max_tokens] not found');
      const system = r.system === undefined ? '' : blocksText(r.system, '#/system');
      return { prompt: conversationPrompt(r, system), maxTokens: limit('#/max_tokens', r.max_tokens, maxAllowed) };
    },
    write(a) {
      const u = usage(a);
      return {
        id: `msg_emulated_${hash(a.prompt)}`,
        type: 'message',
        role: 'assistant',
        model: a.modelId,
        content: [{ type: 'text', text: a.text }],
        stop_reason: a.truncated ? 'max_tokens' : 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: u.input, output_tokens: u.output },
      };
    },
  },
};
