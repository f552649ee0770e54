/**
 * The submit case, in its own process: `bench/submit.ts <file>`. Prints one JSON line.
 *
 * On the local stack (ingest, transform, split, submit and monitor from their queues), after a warm-up run on the
 * 401-record sample: the time from the upload of <file> to its CreateModelCustomizationJob, and, for its job, the
 * Bedrock status calls (GetModelCustomizationJob) per simulated training hour.
 *
 * The Bedrock emulator's clock runs SPEED simulated seconds a real second here, and the functions get the default
 * stage's poll cadence (serverless.yml's params.default, 300 s backing off to 900 s) divided by SPEED, so the calls per
 * simulated hour are those of a deployed pipeline's cadence, on a clock that plays a training job out in seconds. The
 * local stage's own cadence (polls of 1-2 real seconds on a clock of an hour a second) would poll far less per
 * simulated hour than a deployment, and say nothing about it. The functions reach Bedrock through a counting proxy in
 * this process, which sees every call they make (the emulator itself is not changed).
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import { createReadStream, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';

/** Simulated seconds per real second: 300 s (the default first poll) is one real second. */
const SPEED = 300;

interface Call {
  at: number;
  method: string;
  /** The path's first segment (the operation's resource) and the rest, decoded. */
  resource: string;
  id?: string;
  status?: number;
}

/** A proxy in front of the Bedrock emulator that records every call the functions make. */
async function countingProxy() {
  const calls: Call[] = [];
  let upstream: URL | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const [resource = '', id] = (req.url ?? '/').split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent);
    const call: Call = { at: Date.now(), method: req.method ?? 'GET', resource, ...(id ? { id } : {}) };
    calls.push(call);
    const up = request(
      {
        host: upstream!.hostname,
        port: upstream!.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (r) => {
        call.status = r.statusCode;
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', (err) => res.destroy(err));
    req.pipe(up);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    setUpstream: (endpoint: string) => (upstream = new URL(endpoint)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function main(file: string) {
  const { startStack } = await import('../local/stack');
  const { loadServerlessConfig } = await import('../local/stack/serverless-config');
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const { makeDocumentClient } = await import('../shared/aws/clients');
  const { sampleJsonl } = await import('../local/sample/generate');
  const { DynamoRunStore } = await import('../shared/runs/dynamo-run-store');
  const { currentJob, runCounts } = await import('../shared/runs/record');
  const { TERMINAL_STATUSES } = await import('../shared/runs/status');

  // The deployed cadence, from serverless.yml's default stage, on the fast clock.
  const deployed = (await loadServerlessConfig('dev')).provider.environment ?? {};
  const scaled = (name: string) => {
    const seconds = Number(deployed[name]) / SPEED;
    if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`${name} / ${SPEED} is not a whole SQS delay`);
    return String(seconds);
  };
  const environment = {
    BTP_POLL_SECONDS: scaled('BTP_POLL_SECONDS'),
    BTP_MAX_POLL_SECONDS: scaled('BTP_MAX_POLL_SECONDS'),
    BTP_TIME_SCALE: String(SPEED),
  };

  const proxy = await countingProxy();
  const s = await startStack({
    functions: ['ingest', 'transform', 'split', 'submit', 'monitor'],
    retryDelaySeconds: 1,
    simulatedHoursPerSecond: SPEED,
    environment: { ...environment, AWS_ENDPOINT_URL_BEDROCK: proxy.endpoint },
  });
  proxy.setUpstream(s.bedrock.endpoint);
  try {
    const runs = new DynamoRunStore(makeDocumentClient(s.clients.dynamodb), s.tableName());
    const bucket = s.bucketName('DatasetsBucket');
    const runOf = async (key: string) => {
      for (const status of ['training', 'submitting', 'queued', 'failed', 'provisioning', 'succeeded'] as const) {
        const found = (await runs.listByStatus(status)).find((r) => r.source?.key === key);
        if (found) return found;
      }
      return undefined;
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    /** Uploads, then waits for the run's CreateModelCustomizationJob; the times are the proxy's and the run's. */
    const submit = async (key: string, body: Buffer | Readable, size: number) => {
      const u0 = Date.now();
      await s.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: size }));
      const uploadedAt = Date.now();
      const seen = proxy.calls.length;
      for (;;) {
        await sleep(250);
        const run = await runOf(key);
        if (run?.status === 'failed') throw new Error(`run ${run.runId} failed: ${JSON.stringify(run.failure)}`);
        const job = run && currentJob(run);
        if (!run || !job?.jobArn) continue;
        const create = proxy.calls
          .slice(seen)
          .find((c) => c.method === 'POST' && c.resource === 'model-customization-jobs' && !c.id);
        if (!create) throw new Error(`run ${run.runId} has job ${job.jobArn}, but no CreateModelCustomizationJob seen`);
        const events = await runs.listEvents(run.runId);
        const at = (to: string) => Date.parse(events.find((e) => e.to === to)?.at ?? '');
        const created = Date.parse(run.createdAt);
        return {
          run,
          jobArn: job.jobArn,
          createAt: create.at,
          uploadSeconds: (uploadedAt - u0) / 1000,
          seconds: (create.at - uploadedAt) / 1000,
          // Where the time went, from the run's history: the upload's notification to the run (ingest's start),
          // ingest, transforms, split, and split's end to the call.
          phases: {
            notifyToCreated: (created - uploadedAt) / 1000,
            ingest: (at('preparing') - created) / 1000,
            transform: (at('splitting') - at('preparing')) / 1000,
            split: (at('submitting') - at('splitting')) / 1000,
            submit: (create.at - at('submitting')) / 1000,
          },
        };
      }
    };

    // The warm-up: the functions' first invocations pay for their initialisation (the cold figure, printed too).
    const sample = Buffer.from(sampleJsonl());
    const warm = await submit('datasets/bench/warm-up.jsonl', sample, sample.length);
    const size = statSync(file).size;
    const measured = await submit(`datasets/bench/${path.basename(file)}`, createReadStream(file), size);

    // Follow the measured job to its end (the monitor's work), looking at the run every half second.
    const jobId = measured.jobArn.split('/').pop()!;
    let run = measured.run;
    const deadline = Date.now() + 10 * 60_000;
    while (run.status === 'training' || run.status === 'submitting') {
      if (Date.now() > deadline) throw new Error(`the job of run ${run.runId} did not end in 10 minutes`);
      await sleep(500);
      run = (await runs.get(run.runId))!;
    }
    const job = currentJob(run)!;
    if (TERMINAL_STATUSES.includes(run.status) && run.status !== 'succeeded')
      throw new Error(`run ${run.runId} ended ${run.status}: ${JSON.stringify(run.failure)}`);
    const statusCalls = proxy.calls.filter(
      (c) =>
        c.method === 'GET' &&
        c.resource === 'model-customization-jobs' &&
        (c.id === measured.jobArn || c.id === jobId || c.id === measured.run.runId),
    );
    const createdAt = measured.createAt;
    // The job's life on the simulated clock, from its creation to its end (Bedrock's endTime, as the run records it).
    if (!job.jobEndedAt) throw new Error(`run ${run.runId} records no end of job ${measured.jobArn}`);
    const endedAt = Date.parse(job.jobEndedAt);
    const simulatedHours = ((endedAt - createdAt) / 1000) * (SPEED / 3600);
    return {
      records: runCounts(measured.run)?.input,
      seconds: measured.seconds,
      phases: measured.phases,
      uploadSeconds: measured.uploadSeconds,
      warmUpSeconds: warm.seconds,
      warmUpPhases: warm.phases,
      job: {
        status: run.status,
        jobStatus: job.jobStatus,
        simulatedHours: Math.round(simulatedHours * 100) / 100,
        statusCalls: statusCalls.length,
        statusCallsPerSimulatedHour: Math.round((statusCalls.length / simulatedHours) * 100) / 100,
        // Each status call's time on the simulated clock, in minutes since the job's creation.
        callMinutes: statusCalls.map((c) => Math.round(((c.at - createdAt) / 60_000) * SPEED)),
        cadence: environment,
      },
      bedrockCalls: Object.entries(
        proxy.calls.reduce<Record<string, number>>((acc, c) => {
          const op = `${c.method} /${c.resource}${c.id ? '/{id}' : ''}`;
          acc[op] = (acc[op] ?? 0) + 1;
          return acc;
        }, {}),
      ).map(([op, n]) => `${op}: ${n}`),
      targets: { seconds: '<= 3', statusCallsPerSimulatedHour: '<= 6' },
    };
  } finally {
    await s.stop();
    await proxy.close();
  }
}

main(process.argv[2]!)
  .then((out) => {
    process.stdout.write(
      JSON.stringify({ ...out, peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\n',
    );
    process.exit(0);
  })
  .catch((err) => {
    process.stdout.write(JSON.stringify({ error: (err as Error).stack }) + '\n');
    process.exit(1);
  });
