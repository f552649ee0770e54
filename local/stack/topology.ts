import type { CfnResource, ResolvedServerless, SqsEvent } from './serverless-config';

/**
 * The local picture of the CloudFormation resources in serverless.yml: names, URLs and ARNs resolved from the
 * template's intrinsic functions (Ref, Fn::GetAtt, Fn::Sub, Fn::Join) as CloudFormation would resolve them.
 */
export interface Topology {
  stackName: string;
  region: string;
  accountId: string;
  queues: Record<string, QueueSpec>;
  buckets: Record<string, BucketSpec>;
  tables: Record<string, TableSpec>;
  functions: Record<string, FunctionSpec>;
  /** EventBridge rules that deliver to a queue: the local Bedrock emulator's events follow them. */
  eventRules: Array<{ logicalId: string; pattern: Record<string, unknown>; queueLogicalId: string }>;
  topics: Record<string, { logicalId: string; name: string; arn: string }>;
  /** SNS -> SQS subscriptions, with their raw-delivery flag and filter policy. */
  subscriptions: Array<{
    logicalId: string;
    topicLogicalId: string;
    queueLogicalId: string;
    raw: boolean;
    filterPolicy?: Record<string, unknown>;
  }>;
}

export interface QueueSpec {
  logicalId: string;
  name: string;
  attributes: Record<string, string>;
  redrive?: { deadLetterLogicalId: string; maxReceiveCount: number };
}

export interface BucketSpec {
  logicalId: string;
  name: string;
  notifications: Array<{ queueLogicalId: string; event: string; prefix?: string; suffix?: string; id: string }>;
}

export interface TableSpec {
  logicalId: string;
  properties: Record<string, unknown>;
  name: string;
}

export interface FunctionSpec {
  name: string;
  /** `services/ingest/handler.handler` -> file `services/ingest/handler`, export `handler`. */
  handlerFile: string;
  handlerExport: string;
  timeoutSeconds: number;
  memoryMb: number;
  environment: Record<string, string>;
  sqs?: { queueLogicalId: string; batchSize: number; batchingWindowSeconds: number; maximumConcurrency: number };
  /** `schedule: rate(N unit)` events, in seconds. */
  scheduleSeconds?: number;
}

export interface TopologyOptions {
  region?: string;
  accountId?: string;
  /** Base URL of the local SQS, for queue URLs (`Ref` of a queue). */
  sqsEndpoint: string;
}

export function buildTopology(config: ResolvedServerless, opts: TopologyOptions): Topology {
  const region = opts.region ?? 'us-east-1';
  const accountId = opts.accountId ?? '000000000000';
  const stage = config.provider.stage ?? 'local';
  const stackName = `${config.service}-${stage}`;
  const resources = config.resources?.Resources ?? {};
  const pseudo: Record<string, string> = {
    'AWS::StackName': stackName,
    'AWS::AccountId': accountId,
    'AWS::Region': region,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };

  // Names first (they may use Fn::Sub over pseudo parameters only), then everything else can refer to them.
  const names: Record<string, string> = {};
  const nameOf = (logicalId: string): string => {
    if (names[logicalId]) return names[logicalId];
    const res = resources[logicalId];
    if (!res) throw new Error(`serverless.yml refers to unknown resource ${logicalId}`);
    const p = res.Properties ?? {};
    const explicit = p.QueueName ?? p.BucketName ?? p.TableName ?? p.TopicName ?? p.RoleName ?? p.Name;
    const name = explicit !== undefined ? String(resolve(explicit)) : `${stackName}-${logicalId}`.toLowerCase();
    names[logicalId] = name;
    return name;
  };

  const ref = (logicalId: string): string => {
    if (pseudo[logicalId]) return pseudo[logicalId];
    const res = resources[logicalId];
    if (!res) throw new Error(`serverless.yml: Ref to unknown resource ${logicalId}`);
    if (res.Type === 'AWS::SQS::Queue') return `${opts.sqsEndpoint}/${accountId}/${nameOf(logicalId)}`;
    if (res.Type === 'AWS::SNS::Topic') return `arn:aws:sns:${region}:${accountId}:${nameOf(logicalId)}`;
    return nameOf(logicalId);
  };

  const getAtt = (logicalId: string, attr: string): string => {
    const res = resources[logicalId];
    if (!res) throw new Error(`serverless.yml: Fn::GetAtt on unknown resource ${logicalId}`);
    const name = nameOf(logicalId);
    switch (`${res.Type}.${attr}`) {
      case 'AWS::SQS::Queue.Arn':
        return `arn:aws:sqs:${region}:${accountId}:${name}`;
      case 'AWS::SQS::Queue.QueueName':
        return name;
      case 'AWS::SQS::Queue.QueueUrl':
        return `${opts.sqsEndpoint}/${accountId}/${name}`;
      case 'AWS::S3::Bucket.Arn':
        return `arn:aws:s3:::${name}`;
      case 'AWS::DynamoDB::Table.Arn':
        return `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
      case 'AWS::IAM::Role.Arn':
        return `arn:aws:iam::${accountId}:role/${name}`;
      case 'AWS::Events::Rule.Arn':
        return `arn:aws:events:${region}:${accountId}:rule/${name}`;
      case 'AWS::SNS::Topic.TopicArn':
        return `arn:aws:sns:${region}:${accountId}:${name}`;
      default:
        throw new Error(
          `serverless.yml: Fn::GetAtt ${logicalId}.${attr} (${res.Type}) is not known to the local stack`,
        );
    }
  };

  function resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const arg = obj[k];
      if (k === 'Ref') return ref(String(arg));
      if (k === 'Fn::GetAtt') {
        const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
        return getAtt(id!, attr!);
      }
      if (k === 'Fn::Sub') return sub(arg);
      if (k === 'Fn::Join') {
        const [sep, parts] = arg as [string, unknown[]];
        return (resolve(parts) as unknown[]).join(sep);
      }
    }
    return Object.fromEntries(keys.map((key) => [key, resolve(obj[key])]));
  }

  function sub(arg: unknown): string {
    const [template, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
    return template.replace(/\$\{([^}!]+)\}/g, (_m, expr: string) => {
      if (vars[expr] !== undefined) return String(resolve(vars[expr]));
      if (pseudo[expr]) return pseudo[expr];
      const [id, attr] = expr.split('.');
      return attr ? getAtt(id!, attr) : ref(id!);
    });
  }

  const logicalIdOfArn = (arn: unknown): string => {
    const att = (arn as Record<string, unknown>)?.['Fn::GetAtt'];
    if (Array.isArray(att)) return String(att[0]);
    if (typeof att === 'string') return att.split('.')[0]!;
    throw new Error(`the local stack needs SQS event sources as Fn::GetAtt [Queue, Arn], got ${JSON.stringify(arn)}`);
  };

  const topology: Topology = {
    stackName,
    region,
    accountId,
    queues: {},
    buckets: {},
    tables: {},
    functions: {},
    eventRules: [],
    topics: {},
    subscriptions: [],
  };
  for (const [logicalId, res] of Object.entries(resources) as Array<[string, CfnResource]>) {
    const p = res.Properties ?? {};
    if (res.Type === 'AWS::SQS::Queue') {
      const attributes: Record<string, string> = {};
      for (const key of [
        'VisibilityTimeout',
        'MessageRetentionPeriod',
        'DelaySeconds',
        'ReceiveMessageWaitTimeSeconds',
        'MaximumMessageSize',
      ]) {
        if (p[key] !== undefined) attributes[key] = String(p[key]);
      }
      const redrive = p.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: unknown } | undefined;
      topology.queues[logicalId] = {
        logicalId,
        name: nameOf(logicalId),
        attributes,
        redrive: redrive
          ? {
              deadLetterLogicalId: logicalIdOfArn(redrive.deadLetterTargetArn),
              maxReceiveCount: Number(redrive.maxReceiveCount),
            }
          : undefined,
      };
    } else if (res.Type === 'AWS::S3::Bucket') {
      const qcs = ((p.NotificationConfiguration as Record<string, unknown> | undefined)?.QueueConfigurations ??
        []) as Array<Record<string, unknown>>;
      topology.buckets[logicalId] = {
        logicalId,
        name: nameOf(logicalId),
        notifications: qcs.map((qc, i) => {
          const rules = ((
            (qc.Filter as Record<string, unknown> | undefined)?.S3Key as Record<string, unknown> | undefined
          )?.Rules ?? []) as Array<{ Name: string; Value: string }>;
          return {
            id: `${logicalId}-queue-${i}`,
            queueLogicalId: logicalIdOfArn(qc.Queue),
            event: String(qc.Event),
            prefix: rules.find((r) => r.Name.toLowerCase() === 'prefix')?.Value,
            suffix: rules.find((r) => r.Name.toLowerCase() === 'suffix')?.Value,
          };
        }),
      };
    } else if (res.Type === 'AWS::DynamoDB::Table') {
      topology.tables[logicalId] = { logicalId, name: nameOf(logicalId), properties: p };
    } else if (res.Type === 'AWS::SNS::Topic') {
      topology.topics[logicalId] = { logicalId, name: nameOf(logicalId), arn: ref(logicalId) };
    } else if (res.Type === 'AWS::SNS::Subscription' && p.Protocol === 'sqs') {
      const topicRef = (p.TopicArn as { Ref?: string })?.Ref;
      if (!topicRef) throw new Error(`the local stack needs ${logicalId}.TopicArn as a Ref to a topic`);
      topology.subscriptions.push({
        logicalId,
        topicLogicalId: topicRef,
        queueLogicalId: logicalIdOfArn(p.Endpoint),
        raw: String(p.RawMessageDelivery) === 'true',
        filterPolicy: p.FilterPolicy as Record<string, unknown> | undefined,
      });
    } else if (res.Type === 'AWS::Events::Rule') {
      for (const target of (p.Targets ?? []) as Array<{ Arn: unknown }>) {
        const id = logicalIdOfArn(target.Arn);
        if (resources[id]?.Type === 'AWS::SQS::Queue') {
          topology.eventRules.push({
            logicalId,
            pattern: p.EventPattern as Record<string, unknown>,
            queueLogicalId: id,
          });
        }
      }
    }
  }

  const providerEnv = resolve(config.provider.environment ?? {}) as Record<string, unknown>;
  for (const [key, fn] of Object.entries(config.functions ?? {})) {
    const [file, exportName] = splitHandler(fn.handler);
    const env = { ...providerEnv, ...(resolve(fn.environment ?? {}) as Record<string, unknown>) };
    const sqsEvent = fn.events?.find((e) => e.sqs)?.sqs as SqsEvent | undefined;
    const schedule = fn.events?.find((e) => e.schedule)?.schedule;
    topology.functions[key] = {
      name: fn.name ?? `${stackName}-${key}`,
      handlerFile: file,
      handlerExport: exportName,
      timeoutSeconds: fn.timeout ?? config.provider.timeout ?? 6,
      memoryMb: fn.memorySize ?? config.provider.memorySize ?? 1024,
      environment: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
      sqs: sqsEvent
        ? {
            queueLogicalId: logicalIdOfArn(sqsEvent.arn),
            batchSize: sqsEvent.batchSize ?? 10,
            batchingWindowSeconds: sqsEvent.maximumBatchingWindow ?? 0,
            // Lambda's default for SQS without maximumConcurrency scales up to 1,000; 2 is the smallest allowed
            // maximum.
            maximumConcurrency: sqsEvent.maximumConcurrency ?? 5,
          }
        : undefined,
      scheduleSeconds: schedule === undefined ? undefined : rateSeconds(schedule),
    };
  }
  return topology;
}

/** `rate(15 minutes)` (or `{ rate: ['rate(15 minutes)'] }`) in seconds; cron expressions are not run locally. */
function rateSeconds(schedule: unknown): number | undefined {
  const raw = typeof schedule === 'string' ? schedule : (schedule as { rate?: unknown })?.rate;
  const text = Array.isArray(raw) ? String(raw[0]) : String(raw);
  const m = text.match(/^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/);
  if (!m) return undefined;
  const unit = m[2]!.startsWith('minute') ? 60 : m[2]!.startsWith('hour') ? 3600 : 86400;
  return Number(m[1]) * unit;
}

function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}
