import { internal, throttled, unavailable, validation } from './errors';

/**
 * Account quotas the emulator enforces. Where the catalog has a published figure it wins; these are the emulator's
 * own, clearly labelled defaults for figures AWS does not publish (see DEFAULT_QUOTAS).
 */
export interface EmulatorQuotas {
  /** InProgress + Stopping jobs per account. Emulator default: AWS publishes no default (docs/bedrock-api.md §14). */
  concurrentJobs: number;
  /**
   * Training records when the catalog has no published maximum (Titan: docs/bedrock-api.md §7.2, §14 item 2).
   * https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-prepare.html
   */
  maxTrainingRecords: number;
  /** Validation records when the catalog has no published maximum. */
  maxValidationRecords: number;
  /** No-commitment Provisioned Throughputs per account (catalog PROVISIONED_THROUGHPUT_QUOTAS, dated page). */
  noCommitmentThroughputs: number;
  /** Model units per no-commitment Provisioned Throughput (same source). */
  modelUnitsPerNoCommitmentThroughput: number;
  /**
   * Model units available for commitment purchases; 0 by default (docs/bedrock-api.md §11.1).
   * https://docs.aws.amazon.com/bedrock/latest/userguide/prov-throughput.html
   */
  commitmentModelUnits: number;
  /**
   * Custom model deployments per account. Emulator default: the per-account figure is in Service Quotas, not in the
   * documentation found (docs/bedrock-api.md §11.4); CreateCustomModelDeployment documents
   * ServiceQuotaExceededException. https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateCustomModelDeployment.html
   */
  customModelDeployments: number;
}

export interface FaultInjector {
  /** The next `count` API calls (control plane or runtime) answer ThrottlingException (429). */
  throttleNext(count: number): void;
  /**
   * Fails the job named `jobName` with `message`: at once if it is InProgress, otherwise when a job of that name
   * is next created, after it has shown InProgress (as Bedrock's asynchronous failures do).
   */
  failJob(jobName: string, message: string): void;
  /**
   * The job named `jobName` (a live one, or the next created under that name) stays InProgress after its data is
   * checked until it is stopped or failed: a test's way to act on a training job that cannot finish under it.
   */
  holdJob(jobName: string): void;
  /** A share (0..1) of API calls answer InternalServerException (500); deterministic: 0.5 fails every second call. */
  internalErrorRate(rate: number): void;
  /**
   * Every API call (control plane and runtime) fails for `seconds` of real time from now, with `error`: 500
   * InternalServerException (default), 503 ServiceUnavailableException or 429 ThrottlingException. Real time, not
   * the simulated clock: what rides out an outage is the pipeline's retries, and they wait in real seconds (SQS
   * delays). `outage(0)` ends one early.
   *
   * With `from`, the outage starts instead at the next call of that operation, which is its first failed call: a
   * test's way to meet a given step of the pipeline however fast the steps before it ran. Several such outages can
   * wait at once, one each per operation; `reset()` clears those still waiting.
   */
  outage(seconds: number, error?: OutageError, from?: EmulatedOperation): void;
  /**
   * The throughput named `name` (a live one still Creating, or the next created under that name) ends Failed with
   * `message` instead of coming into service, as a Provisioned Throughput whose creation fails does.
   */
  failThroughput(name: string, message: string): void;
  /** The throughput named `name` (live or next created) stays Creating until it is deleted. */
  holdThroughput(name: string): void;
  /**
   * The custom model deployment named `name` (live or next created) stays Creating until it is deleted: a test's way
   * to act on a run while its deployment is being created, however fast the emulator's clock.
   */
  holdDeployment(name: string): void;
  /** Changes quotas from now on. */
  setQuotas(quotas: Partial<EmulatorQuotas>): void;
  /** Clears throttling, error rate, an outage and pending job and throughput faults (quotas stay). */
  reset(): void;
}

/** What an outage answers every call with. */
export type OutageError = 'internal' | 'unavailable' | 'throttled';
const OUTAGE_ERRORS = { internal, unavailable, throttled } as const;

/** The operations the emulator answers (docs/bedrock-emulator.md, "Operations"). */
export const EMULATED_OPERATIONS = [
  'CreateModelCustomizationJob',
  'GetModelCustomizationJob',
  'ListModelCustomizationJobs',
  'StopModelCustomizationJob',
  'GetCustomModel',
  'ListCustomModels',
  'DeleteCustomModel',
  'CreateProvisionedModelThroughput',
  'GetProvisionedModelThroughput',
  'ListProvisionedModelThroughputs',
  'DeleteProvisionedModelThroughput',
  'UpdateProvisionedModelThroughput',
  'CreateCustomModelDeployment',
  'GetCustomModelDeployment',
  'ListCustomModelDeployments',
  'DeleteCustomModelDeployment',
  'InvokeModel',
] as const;
export type EmulatedOperation = (typeof EMULATED_OPERATIONS)[number];

/** The body of `POST /_emulator/faults`, for other processes of the stack. */
export interface FaultRequest {
  throttleNext?: number;
  failJob?: { jobName: string; message: string };
  holdJob?: { jobName: string };
  failThroughput?: { name: string; message: string };
  holdThroughput?: { name: string };
  holdDeployment?: { name: string };
  internalErrorRate?: number;
  outage?: { seconds: number; error?: OutageError; from?: EmulatedOperation };
  quotas?: Partial<EmulatorQuotas>;
  reset?: boolean;
}

export class Faults implements FaultInjector {
  private throttleRemaining = 0;
  private errorRate = 0;
  private errorCredit = 0;
  private outageUntil = 0;
  private outageError: OutageError = 'internal';
  /** Outages that start at the next call of their operation. */
  private readonly waitingOutages = new Map<EmulatedOperation, { seconds: number; error: OutageError }>();
  readonly pendingJobFailures = new Map<string, string>();
  /** Jobs by name that stay InProgress instead of training to completion. */
  readonly heldJobs = new Set<string>();
  /** Throughputs by name that fail (with their message) or stay Creating (`hold`) instead of coming into service. */
  readonly throughputFaults = new Map<string, { fail: string } | 'hold'>();
  /** Custom model deployments by name that stay Creating instead of becoming Active. */
  readonly heldDeployments = new Set<string>();

  constructor(
    readonly quotas: EmulatorQuotas,
    /** Fails a live job; returns false when no InProgress job has that name. */
    private readonly failLiveJob: (jobName: string, message: string) => boolean,
  ) {}

  throttleNext(count: number): void {
    this.throttleRemaining = Math.max(0, Math.floor(count));
  }

  failJob(jobName: string, message: string): void {
    if (!this.failLiveJob(jobName, message)) this.pendingJobFailures.set(jobName, message);
  }

  holdJob(jobName: string): void {
    this.heldJobs.add(jobName);
  }

  failThroughput(name: string, message: string): void {
    this.throughputFaults.set(name, { fail: message });
  }

  holdThroughput(name: string): void {
    this.throughputFaults.set(name, 'hold');
  }

  holdDeployment(name: string): void {
    this.heldDeployments.add(name);
  }

  internalErrorRate(rate: number): void {
    this.errorRate = Math.min(1, Math.max(0, rate));
    this.errorCredit = 0;
  }

  outage(seconds: number, error: OutageError = 'internal', from?: EmulatedOperation): void {
    if (!Number.isFinite(seconds) || seconds < 0)
      throw validation(`outage.seconds must be a number >= 0, got ${seconds}`);
    if (!Object.hasOwn(OUTAGE_ERRORS, error))
      throw validation(`outage.error must be one of ${Object.keys(OUTAGE_ERRORS).join(', ')}, got ${error}`);
    if (from !== undefined && !EMULATED_OPERATIONS.includes(from))
      throw validation(`outage.from must be an emulated operation (${EMULATED_OPERATIONS.join(', ')}), got ${from}`);
    if (from !== undefined) this.waitingOutages.set(from, { seconds, error });
    else this.startOutage(seconds, error);
  }

  private startOutage(seconds: number, error: OutageError): void {
    this.outageUntil = Date.now() + seconds * 1000;
    this.outageError = error;
  }

  setQuotas(quotas: Partial<EmulatorQuotas>): void {
    Object.assign(this.quotas, quotas);
  }

  reset(): void {
    this.throttleRemaining = 0;
    this.errorRate = 0;
    this.errorCredit = 0;
    this.outageUntil = 0;
    this.waitingOutages.clear();
    this.pendingJobFailures.clear();
    this.heldJobs.clear();
    this.throughputFaults.clear();
    this.heldDeployments.clear();
  }

  /** Called before each API call (`operation` undefined when none answers it); throws the injected error, if any. */
  beforeCall(operation: EmulatedOperation | undefined): void {
    const waiting = operation && this.waitingOutages.get(operation);
    if (waiting) {
      this.waitingOutages.delete(operation);
      this.startOutage(waiting.seconds, waiting.error);
    }
    if (Date.now() < this.outageUntil) throw OUTAGE_ERRORS[this.outageError]();
    if (this.throttleRemaining > 0) {
      this.throttleRemaining--;
      throw throttled();
    }
    if (this.errorRate > 0) {
      this.errorCredit += this.errorRate;
      if (this.errorCredit >= 1 - 1e-9) {
        this.errorCredit -= 1;
        throw internal();
      }
    }
  }

  apply(request: FaultRequest): void {
    if (request.reset) this.reset();
    if (request.quotas) this.setQuotas(request.quotas);
    if (request.throttleNext !== undefined) this.throttleNext(request.throttleNext);
    if (request.internalErrorRate !== undefined) this.internalErrorRate(request.internalErrorRate);
    if (request.outage) this.outage(request.outage.seconds, request.outage.error, request.outage.from);
    if (request.failJob) this.failJob(request.failJob.jobName, request.failJob.message);
    if (request.holdJob) this.holdJob(request.holdJob.jobName);
    if (request.failThroughput) this.failThroughput(request.failThroughput.name, request.failThroughput.message);
    if (request.holdThroughput) this.holdThroughput(request.holdThroughput.name);
    if (request.holdDeployment) this.holdDeployment(request.holdDeployment.name);
  }
}
