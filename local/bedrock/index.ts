import type { S3Client } from '@aws-sdk/client-s3';
import { PROVISIONED_THROUGHPUT_QUOTAS } from '../../shared/catalog';
import { ControlPlane, TIMINGS, type Timings } from './control-plane';
import { BedrockError, validation } from './errors';
import type { ModelCustomizationJobStateChange } from './events';
import { Faults, type EmulatedOperation, type EmulatorQuotas, type FaultInjector, type FaultRequest } from './faults';
import { invokeModel } from './runtime';
import { listen, type EmulatorRequest, type EmulatorResponse } from './server';

export type { ModelCustomizationJobStateChange } from './events';
export type { EmulatedOperation, EmulatorQuotas, FaultInjector, FaultRequest, OutageError } from './faults';
export { TIMINGS, type Timings } from './control-plane';

export interface BedrockEmulatorOptions {
  /** 0 or undefined: a free port on 127.0.0.1. */
  port?: number;
  /** Default 'us-east-1'. */
  region?: string;
  /** Default '000000000000', the local stack's account. */
  accountId?: string;
  /** A real S3 client pointed at the local S3: reads training data, writes output files. */
  s3: S3Client;
  /**
   * How fast simulated time runs: simulated seconds per real second. The default 3600 makes a simulated hour
   * take about one real second.
   */
  simulatedHoursPerSecond?: number;
  /** EventBridge-shaped sink, called on every job state change, in order. Best effort, like EventBridge. */
  onEvent?: (event: ModelCustomizationJobStateChange) => Promise<void>;
  quotas?: Partial<EmulatorQuotas>;
  /** Simulated durations of the lifecycle steps (an addition to the agreed interface; defaults: TIMINGS). */
  timings?: Partial<Timings>;
  /**
   * The day Bedrock's model lifecycle is played at (`YYYY-MM-DD`): absent, today, as Bedrock is now (end-of-life base
   * models, and custom models of them, are refused); an earlier day plays the catalog as it was then, e.g.
   * TITAN_RECIPE_DATE for the 2024 Titan recipe.
   */
  catalogDate?: string;
}

/**
 * The emulator's quotas. Published figures come from the catalog; the rest are emulator defaults, chosen so a
 * demo runs and labelled as such in every message that cites them.
 */
export const DEFAULT_QUOTAS: EmulatorQuotas = {
  // Emulator default: no published default for concurrent customization jobs was found.
  concurrentJobs: 2,
  // Emulator defaults for Titan, whose record quotas are account-specific and unpublished (docs/bedrock-api.md §7.2,
  // §14 item 2):
  // the figures Cohere's table gives, the closest documented sibling.
  // https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html
  maxTrainingRecords: 10_000,
  maxValidationRecords: 1_000,
  noCommitmentThroughputs: PROVISIONED_THROUGHPUT_QUOTAS.noCommitmentThroughputsPerAccount.value ?? 2,
  modelUnitsPerNoCommitmentThroughput: PROVISIONED_THROUGHPUT_QUOTAS.modelUnitsPerNoCommitmentThroughput.value ?? 1,
  commitmentModelUnits: PROVISIONED_THROUGHPUT_QUOTAS.commitmentModelUnits.value ?? 0,
  // Emulator default: no published per-account figure for custom model deployments was found.
  customModelDeployments: 10,
};

export interface BedrockEmulator {
  /** http://127.0.0.1:PORT: the control plane and bedrock-runtime, over HTTP/1.1 and h2c, on one port. */
  endpoint: string;
  port: number;
  faults: FaultInjector;
  close(): Promise<void>;
}

/**
 * A local Bedrock: the customization and Provisioned Throughput control plane and bedrock-runtime InvokeModel,
 * speaking restJson1 to the unmodified SDK clients. It trains nothing: jobs play out on a fast clock, and the
 * checks and failures are those the API notes document. See docs/bedrock-emulator.md.
 */
export async function startBedrockEmulator(opts: BedrockEmulatorOptions): Promise<BedrockEmulator> {
  const speed = opts.simulatedHoursPerSecond ?? 3600;
  if (!(speed > 0)) throw new Error(`simulatedHoursPerSecond must be positive, got ${speed}`);
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  const schedule = (simulatedMs: number, fn: () => void) => {
    if (closed) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) fn();
    }, simulatedMs / speed);
    timers.add(timer);
  };

  // Events go out one at a time, in the order the states changed; a failing sink loses the event (best effort,
  // as EventBridge delivery is, docs/bedrock-api.md §10) and says so on stderr rather than stopping the job.
  // https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-eventbridge-how-it-works.html
  let delivery = Promise.resolve();
  const emit = (event: ModelCustomizationJobStateChange) => {
    if (!opts.onEvent) return;
    const sink = opts.onEvent;
    delivery = delivery
      .then(() => sink(event))
      .catch((err: unknown) => {
        process.emitWarning(
          `Bedrock emulator: event sink failed for ${event.detail.jobName} ${event.detail.jobStatus}: ${String(err)}`,
        );
      });
  };

  const quotas: EmulatorQuotas = { ...DEFAULT_QUOTAS, ...opts.quotas };
  const catalogDate = fixedDate(opts.catalogDate);
  // The fault injector fails live jobs through the control plane, which is built just below.
  const faults = new Faults(quotas, (name, message) => plane.failByName(name, message));
  const plane: ControlPlane = new ControlPlane({
    region: opts.region ?? 'us-east-1',
    accountId: opts.accountId ?? '000000000000',
    s3: opts.s3,
    quotas,
    timings: { ...TIMINGS, ...opts.timings },
    schedule,
    emit,
    pendingJobFailures: faults.pendingJobFailures,
    heldJobs: faults.heldJobs,
    catalogDate: catalogDate ? () => catalogDate : () => new Date(),
    throughputFaults: faults.throughputFaults,
    heldDeployments: faults.heldDeployments,
  });

  const listener = await listen(opts.port ?? 0, (req) => route(plane, faults, req));
  return {
    endpoint: `http://127.0.0.1:${listener.port}`,
    port: listener.port,
    faults,
    close: async () => {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await listener.close();
      await plane.settle();
      await delivery;
    },
  };
}

const json = (status: number, body: unknown): EmulatorResponse => ({ status, body });

function fixedDate(day: string | undefined): Date | undefined {
  if (day === undefined || day === '') return undefined;
  const d = new Date(day);
  if (Number.isNaN(d.getTime())) throw new Error(`catalogDate must be a date (YYYY-MM-DD), got "${day}"`);
  return d;
}

function parseBody(req: EmulatorRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(req.body.toString('utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new BedrockError('ValidationException', 400, 'The request body is not a valid JSON object.');
  }
}

async function route(plane: ControlPlane, faults: Faults, req: EmulatorRequest): Promise<EmulatorResponse> {
  const [first, second, third, ...rest] = req.segments;
  const m = req.method;

  // The emulator's own endpoints: never throttled or failed by injected faults.
  if (first === '_emulator') {
    if (second === 'health' && m === 'GET') return json(200, { ok: true });
    if (second === 'faults' && m === 'POST') {
      faults.apply(parseBody(req) as FaultRequest);
      return json(200, { quotas: faults.quotas });
    }
    throw new BedrockError(
      'UnknownOperationException',
      404,
      `Bedrock emulator: no endpoint ${m} /${req.segments.join('/')}`,
    );
  }

  const operation = rest.length > 0 ? undefined : operationOf(m, first, second, third);
  faults.beforeCall(operation);
  const done = json(200, {});
  switch (operation) {
    case 'CreateModelCustomizationJob':
      return json(201, await plane.createJob(parseBody(req)));
    case 'ListModelCustomizationJobs':
      return json(200, plane.listJobs(req.query));
    case 'GetModelCustomizationJob':
      return json(200, plane.getJob(second!));
    case 'StopModelCustomizationJob':
      plane.stopJob(second!);
      return done;
    case 'ListCustomModels':
      return json(200, plane.listModels(req.query));
    case 'GetCustomModel':
      return json(200, plane.getModel(second!));
    case 'DeleteCustomModel':
      plane.deleteModel(second!);
      return done;
    case 'CreateProvisionedModelThroughput':
      return json(201, plane.createThroughput(parseBody(req)));
    case 'GetProvisionedModelThroughput':
      return json(200, plane.getThroughput(second!));
    case 'DeleteProvisionedModelThroughput':
      plane.deleteThroughput(second!);
      return done;
    case 'UpdateProvisionedModelThroughput':
      plane.updateThroughput(second!, parseBody(req));
      return done;
    case 'ListProvisionedModelThroughputs':
      return json(200, plane.listThroughputs(req.query));
    case 'CreateCustomModelDeployment':
      return json(202, plane.deploymentOps.create(parseBody(req)));
    case 'ListCustomModelDeployments':
      return json(200, plane.deploymentOps.list(req.query));
    case 'GetCustomModelDeployment':
      return json(200, plane.deploymentOps.get(third!));
    case 'DeleteCustomModelDeployment':
      plane.deploymentOps.delete(third!);
      return done;
    case 'InvokeModel': {
      const result = invokeModel(plane, second!, req.body);
      return {
        status: 200,
        headers: { 'content-type': result.contentType },
        body: Buffer.from(JSON.stringify(result.body)),
      };
    }
    case undefined:
      throw unknownOperation(req);
  }
}

/**
 * The API operation a request calls, by its method and path (the restJson1 bindings in the API reference,
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_Operations_Amazon_Bedrock.html); undefined for a
 * request no emulated operation answers.
 */
function operationOf(
  m: string,
  first: string | undefined,
  second: string | undefined,
  third: string | undefined,
): EmulatedOperation | undefined {
  if (first === 'model-customization-jobs') {
    if (second === undefined)
      return m === 'POST' ? 'CreateModelCustomizationJob' : m === 'GET' ? 'ListModelCustomizationJobs' : undefined;
    if (third === undefined) return m === 'GET' ? 'GetModelCustomizationJob' : undefined;
    return third === 'stop' && m === 'POST' ? 'StopModelCustomizationJob' : undefined;
  }
  if (first === 'custom-models' && third === undefined) {
    if (second === undefined) return m === 'GET' ? 'ListCustomModels' : undefined;
    return m === 'GET' ? 'GetCustomModel' : m === 'DELETE' ? 'DeleteCustomModel' : undefined;
  }
  if (first === 'provisioned-model-throughput' && third === undefined) {
    if (second === undefined) return m === 'POST' ? 'CreateProvisionedModelThroughput' : undefined;
    if (m === 'GET') return 'GetProvisionedModelThroughput';
    return m === 'DELETE'
      ? 'DeleteProvisionedModelThroughput'
      : m === 'PATCH'
        ? 'UpdateProvisionedModelThroughput'
        : undefined;
  }
  if (first === 'provisioned-model-throughputs' && second === undefined) {
    return m === 'GET' ? 'ListProvisionedModelThroughputs' : undefined;
  }
  if (first === 'model-customization' && second === 'custom-model-deployments') {
    if (third === undefined)
      return m === 'POST' ? 'CreateCustomModelDeployment' : m === 'GET' ? 'ListCustomModelDeployments' : undefined;
    return m === 'GET' ? 'GetCustomModelDeployment' : m === 'DELETE' ? 'DeleteCustomModelDeployment' : undefined;
  }
  if (first === 'model' && second !== undefined && third === 'invoke' && m === 'POST') return 'InvokeModel';
  return undefined;
}

function unknownOperation(req: EmulatorRequest): BedrockError {
  return validation(`Bedrock emulator: ${req.method} /${req.segments.join('/')} is not an emulated operation.`);
}
