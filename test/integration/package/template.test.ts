import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../../local/stack/serverless-config';
import {
  bucketFindings,
  encryptionFindings,
  passRoleFindings,
  perFunctionRoleFindings,
  queueFindings,
  s3ScopeFindings,
  servicePrincipalFindings,
  trustFindings,
  wildcardFindings,
  type Access,
  type Template,
} from '../../helpers/package/template-rules';
import { readZips, zipFindings, type FunctionZip } from '../../helpers/package/bundle-rules';

/**
 * The template and the function zips `serverless package` writes (what `npm run package` deploys), checked against the
 * stack's security and reliability rules and the bundle rules. CI runs the tests before packaging, so the test
 * packages into a directory of its own (once for both: two packagings at once would share serverless-esbuild's
 * work folder).
 */
let dir: string;
let template: Template;
let access: Access;
let functions: string[];
let zips: FunctionZip[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'btp-package-'));
  const bin = path.join(PROJECT_ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js');
  await promisify(execFile)(
    process.execPath,
    [bin, 'package', '--stage', 'dev', '--region', 'us-east-1', '--package', dir],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', SLS_DEPRECATION_DISABLE: '*' },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  template = JSON.parse(readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  // The resolved serverless.yml as packaged: its custom.access lists what roles may touch in S3.
  const state = JSON.parse(readFileSync(path.join(dir, 'serverless-state.json'), 'utf8')) as {
    service: { custom: { access: Access }; functions: Record<string, unknown> };
  };
  access = state.service.custom.access;
  functions = Object.keys(state.service.functions);
  zips = await readZips(dir, functions);
}, 240000);
afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

const clone = () => structuredClone(template);
type Res = Template['Resources'][string];
/** The policy statements of a role, to break one on purpose. */
const statementsOf = (t: Template, role: string) =>
  (
    t.Resources[role]!.Properties!.Policies as Array<{ PolicyDocument: { Statement: Array<Record<string, unknown>> } }>
  )[0]!.PolicyDocument.Statement;
const withAction = (t: Template, role: string, action: string) =>
  statementsOf(t, role).find((s) => JSON.stringify(s.Action).includes(action))!;

describe('the packaged CloudFormation template', () => {
  it('gives every function a role of its own (serverless-iam-roles-per-function)', () => {
    expect(perFunctionRoleFindings(template)).toEqual([]);
  });

  it('has no IAM action or resource wildcard beyond those a service requires', () => {
    expect(wildcardFindings(template, access)).toEqual([]);
  });

  it('lets only submit pass only the Bedrock service role, and only to Bedrock', () => {
    expect(passRoleFindings(template)).toEqual([]);
  });

  it("limits the Bedrock service role's trust to this account's customization jobs; no role is left unused", () => {
    expect(trustFindings(template)).toEqual([]);
  });

  it('encrypts every queue, bucket, table and topic', () => {
    expect(encryptionFindings(template)).toEqual([]);
  });

  it('blocks public access to every bucket and refuses plain HTTP', () => {
    expect(bucketFindings(template)).toEqual([]);
  });

  it('gives every queue a dead-letter queue and every SQS event source partial batch failures', () => {
    expect(queueFindings(template)).toEqual([]);
  });

  it('lets a service send to a queue only from its named source', () => {
    expect(servicePrincipalFindings(template)).toEqual([]);
  });

  it('reads and writes only the allowed buckets and prefixes', () => {
    expect(s3ScopeFindings(template, access)).toEqual([]);
  });
});

describe('the function zips', () => {
  it('are each at most 1 MB: the minified handler and a map of the project sources, without their content', () => {
    expect(functions.length).toBeGreaterThan(0);
    expect(zipFindings(functions, zips)).toEqual([]);
  });

  it('hold the code only some inputs need in files of their own, in the zips of the functions that load it', () => {
    const separate = Object.fromEntries(zips.map((z) => [z.fn, z.files.filter((f) => f.includes('.lib-'))]));
    const credentials = (fn: string) => `services/${fn}/handler.lib-credential-providers.js`;
    const controlPlane = (fn: string) => [
      `services/${fn}/handler.lib-bedrock-control-plane.js`,
      `services/${fn}/handler.lib-bedrock-control-plane.js.map`,
    ];
    expect(separate).toEqual({
      ...Object.fromEntries(functions.map((fn) => [fn, [credentials(fn)]])),
      ingest: [credentials('ingest'), 'services/ingest/handler.lib-iconv-lite.js'],
      transform: [credentials('transform'), 'services/transform/handler.lib-iconv-lite.js'],
      report: [
        'services/report/handler.lib-charts.js',
        'services/report/handler.lib-charts.js.map',
        credentials('report'),
      ],
      // Evaluate and the sweeper call the control plane now and then; submit, monitor and provision at every run.
      evaluate: [...controlPlane('evaluate'), credentials('evaluate')],
      sweeper: [...controlPlane('sweeper'), credentials('sweeper')],
    });
  });
});

/** Each rule, shown a template broken the way it guards against, reports it (so the checks above can fail). */
describe('the template rules catch', () => {
  it("a Resource '*' and an action wildcard", () => {
    const t = clone();
    withAction(t, 'SubmitIamRoleLambdaExecution', 'bedrock:GetModelCustomizationJob').Resource = '*';
    withAction(t, 'MonitorIamRoleLambdaExecution', 'bedrock:StopModelCustomizationJob').Action = ['bedrock:*'];
    expect(wildcardFindings(t, access)).toEqual([
      "SubmitIamRoleLambdaExecution: Resource '*' for bedrock:GetModelCustomizationJob",
      'MonitorIamRoleLambdaExecution: action wildcard bedrock:*',
    ]);
  });

  it('iam:PassRole without its condition, or on another role', () => {
    const t = clone();
    const pass = withAction(t, 'SubmitIamRoleLambdaExecution', 'iam:PassRole');
    delete pass.Condition;
    pass.Resource = [pass.Resource, { 'Fn::GetAtt': ['IngestIamRoleLambdaExecution', 'Arn'] }];
    expect(passRoleFindings(t)).toEqual([
      'SubmitIamRoleLambdaExecution: iam:PassRole on' +
        ' ${BedrockCustomizationRole.Arn}, ${IngestIamRoleLambdaExecution.Arn}, not only the Bedrock service role',
      'SubmitIamRoleLambdaExecution: iam:PassRole without the condition iam:PassedToService = bedrock.amazonaws.com',
    ]);
  });

  it('a Bedrock trust without its source conditions, and a role no function uses', () => {
    const t = clone();
    const trust = (
      t.Resources.BedrockCustomizationRole!.Properties!.AssumeRolePolicyDocument as {
        Statement: Array<Record<string, unknown>>;
      }
    ).Statement[0]!;
    trust.Condition = {};
    t.Resources.SpareRole = structuredClone(t.Resources.IngestIamRoleLambdaExecution!);
    expect(trustFindings(t)).toEqual([
      'BedrockCustomizationRole: trust not limited to this account (aws:SourceAccount)',
      "BedrockCustomizationRole: trust not limited to this account's customization jobs" +
        ' (aws:SourceArn arn:aws:bedrock:${AWS::Region}:${AWS::AccountId}:model-customization-job/*)',
      'SpareRole: a role no function uses and not the Bedrock service role',
    ]);
  });

  it('an unencrypted queue, bucket, table and topic', () => {
    const t = clone();
    delete t.Resources.SplitDLQ!.Properties!.SqsManagedSseEnabled;
    delete t.Resources.ArtifactsBucket!.Properties!.BucketEncryption;
    delete t.Resources.RunsTable!.Properties!.SSESpecification;
    delete t.Resources.RunNotificationsTopic!.Properties!.KmsMasterKeyId;
    expect(encryptionFindings(t)).toEqual([
      'SplitDLQ: queue not encrypted',
      'ArtifactsBucket: bucket without default encryption',
      'RunsTable: table without SSE (KMS)',
      'RunNotificationsTopic: topic not encrypted (KmsMasterKeyId)',
    ]);
  });

  it('a bucket open to public policies or without its TLS-only policy', () => {
    const t = clone();
    t.Resources.DatasetsBucket!.Properties!.PublicAccessBlockConfiguration = {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
    };
    delete t.Resources.ArtifactsBucketPolicy;
    expect(bucketFindings(t)).toEqual([
      'DatasetsBucket: RestrictPublicBuckets is not true',
      'ArtifactsBucket: no bucket policy denying requests without TLS on the bucket and its objects',
    ]);
  });

  it('a queue without a dead-letter queue and an event source without partial batch failures', () => {
    const t = clone();
    delete t.Resources.EvaluateQueue!.Properties!.RedrivePolicy;
    const mapping = Object.values(t.Resources).find((r: Res) => r.Type === 'AWS::Lambda::EventSourceMapping')!;
    delete mapping.Properties!.FunctionResponseTypes;
    const findings = queueFindings(t);
    // EvaluateDLQ is no longer any queue's dead-letter queue, so it too is a queue without one.
    expect(findings).toEqual(
      expect.arrayContaining([
        'EvaluateQueue: queue without a dead-letter queue',
        'EvaluateDLQ: queue without a dead-letter queue',
      ]),
    );
    expect(findings.filter((f) => f.endsWith('without ReportBatchItemFailures'))).toHaveLength(1);
  });

  it('a queue policy for a service without its source', () => {
    const t = clone();
    const s = (
      t.Resources.ReportQueuePolicy!.Properties!.PolicyDocument as { Statement: Array<Record<string, unknown>> }
    ).Statement[0]!;
    delete s.Condition;
    expect(servicePrincipalFindings(t)).toEqual(['ReportQueuePolicy: "sns.amazonaws.com" allowed from any source']);
  });

  it('reads of the whole datasets bucket or by the wrong function, wider Bedrock reads, and an unprefixed list', () => {
    const t = clone();
    withAction(t, 'IngestIamRoleLambdaExecution', 's3:GetObjectVersion').Resource = {
      'Fn::Sub': 'arn:aws:s3:::${DatasetsBucket}/*',
    };
    withAction(t, 'ReportIamRoleLambdaExecution', 's3:GetObject').Resource = {
      'Fn::Sub': 'arn:aws:s3:::${DatasetsBucket}/datasets/*',
    };
    withAction(t, 'BedrockCustomizationRole', 's3:GetObject').Resource = {
      'Fn::Sub': 'arn:aws:s3:::${ArtifactsBucket}/runs/*',
    };
    delete withAction(t, 'MonitorIamRoleLambdaExecution', 's3:ListBucket').Condition;
    expect(s3ScopeFindings(t, access).map((f) => f.replace(/, outside .*/, ''))).toEqual([
      'IngestIamRoleLambdaExecution: s3:GetObject on arn:aws:s3:::${DatasetsBucket}/*',
      'IngestIamRoleLambdaExecution: s3:GetObjectVersion on arn:aws:s3:::${DatasetsBucket}/*',
      'MonitorIamRoleLambdaExecution: lists prefixes [], not only custom.access.artifactPrefixes',
      'ReportIamRoleLambdaExecution: s3:GetObject on arn:aws:s3:::${DatasetsBucket}/datasets/*',
      'ReportIamRoleLambdaExecution: s3:PutObject on arn:aws:s3:::${DatasetsBucket}/datasets/*',
      'BedrockCustomizationRole: s3:GetObject on arn:aws:s3:::${ArtifactsBucket}/runs/*',
      'BedrockCustomizationRole: cannot read arn:aws:s3:::${ArtifactsBucket}/runs/*/stages/*/prepared/*',
    ]);
  });

  it('declared inputs that are a whole bucket, and Bedrock writes outside the run artifacts', () => {
    const broken: Access = {
      ...access,
      inputObjects: { 'Fn::Sub': 'arn:aws:s3:::${DatasetsBucket}/*' },
      bedrockWrites: { 'Fn::Sub': 'arn:aws:s3:::${DatasetsBucket}/output/*' },
    };
    expect(s3ScopeFindings(template, broken)).toEqual(
      expect.arrayContaining([
        'custom.access: input arn:aws:s3:::${DatasetsBucket}/* is not a prefix of one bucket',
        'custom.access: arn:aws:s3:::${DatasetsBucket}/output/* is outside the run artifacts',
      ]),
    );
  });
});

describe('the bundle rules catch', () => {
  it('a missing zip, a zip over the limit, readable code, extra files, and a map of libraries or with their code', () => {
    const split = zips.find((z) => z.fn === 'split')!;
    const broken: FunctionZip = {
      ...split,
      files: [...split.files, 'node_modules/zod/index.js'],
      code: split.code.replace(/;/g, ';\n'),
      map: { ...split.map, sources: [...split.map.sources, '../../node_modules/zod/index.js'], sourcesContent: [] },
    };
    expect(zipFindings(['split', 'gone'], [broken], split.bytes - 1)).toEqual([
      'gone: no zip',
      `split: zip of ${split.bytes} bytes, over ${split.bytes - 1}`,
      `split: ships ${broken.files.join(', ')}`,
      'split: handler not minified',
      "split: map carries the sources' content",
      'split: map of 1 library files',
    ]);
  });

  it('a handler that names its map for Node to read, or lacks the code that maps its stack traces', () => {
    const split = zips.find((z) => z.fn === 'split')!;
    const linked: FunctionZip = { ...split, code: `${split.code}\n//# sourceMappingURL=handler.js.map\n` };
    const unmapped: FunctionZip = { ...split, code: split.code.replace('Error.prepareStackTrace=', 'globalThis.x=') };
    expect(zipFindings(['split'], [linked])).toEqual(['split: handler names its map, which Node then reads']);
    expect(zipFindings(['split'], [unmapped])).toEqual(['split: handler without the code that maps its stack traces']);
  });
});
