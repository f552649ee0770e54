import type { Context } from 'aws-lambda';

type Modules = {
  observability: typeof import('../../../shared/lambda/sqs-handler');
  metrics: typeof import('../../../shared/lambda/metrics');
};

/** The shared metrics instance reads its environment when it is built, so each case loads the modules afresh. */
function load(env: Record<string, string | undefined>): Modules {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  let mods!: Modules;
  try {
    jest.isolateModules(() => {
      mods = {
        observability: require('../../../shared/lambda/sqs-handler'),
        metrics: require('../../../shared/lambda/metrics'),
      };
    });
  } finally {
    process.env = saved;
  }
  return mods;
}

const context = {
  functionName: 'btp-submit',
  awsRequestId: 'req-1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:btp-submit',
} as unknown as Context;

async function emfLines(mods: Modules, body: () => void): Promise<Array<Record<string, unknown>>> {
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    await mods.observability.withObservability(async () => body())({}, context);
    return write.mock.calls
      .map((c) => String(c[0]))
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  } finally {
    write.mockRestore();
  }
}

describe('figures for CloudWatch (Powertools Metrics, EMF)', () => {
  it('the handler wrapper flushes what an invocation counted as one EMF line, in the namespace and service from the environment', async () => {
    const mods = load({
      POWERTOOLS_METRICS_DISABLED: undefined,
      POWERTOOLS_METRICS_NAMESPACE: 'BtpTest',
      POWERTOOLS_SERVICE_NAME: 'btp-test',
    });
    const lines = await emfLines(mods, () => {
      mods.metrics.countFigure('JobsSubmitted', 1);
      mods.metrics.countFigure('ThroughputHours', 2.5);
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'BtpTest',
            Dimensions: [['service']],
            Metrics: [
              { Name: 'JobsSubmitted', Unit: 'Count' },
              { Name: 'ThroughputHours', Unit: 'Count' },
            ],
          },
        ],
      },
      service: 'btp-test',
      JobsSubmitted: 1,
      ThroughputHours: 2.5,
    });
    // Flushed: the next invocation starts from nothing, and prints nothing when it counts nothing.
    expect(await emfLines(mods, () => undefined)).toEqual([]);
  });

  it('prints nothing when metrics are turned off (the tests, the local stack)', async () => {
    const mods = load({ POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_METRICS_NAMESPACE: 'BtpTest' });
    expect(await emfLines(mods, () => mods.metrics.countFigure('RecordsPrepared', 45))).toEqual([]);
  });
});
