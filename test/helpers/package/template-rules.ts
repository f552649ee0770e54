/**
 * Security and reliability rules for the CloudFormation template `serverless package` writes. Each rule returns its
 * findings (one line per breach, naming the resource), so a failing test says what is wrong and where.
 *
 * Values in the template are CloudFormation intrinsics; `render` reads the ones serverless.yml uses as text
 * (`{Ref: X}` -> `${X}`, `{Fn::GetAtt: [X, Arn]}` -> `${X.Arn}`, `{Fn::Sub: s}` -> s), so rules compare ARNs as
 * written.
 */

export interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: unknown }>;
}

/** serverless.yml's `custom.access`: the S3 objects and prefixes roles may touch (see the comments there). */
export interface Access {
  inputObjects: unknown;
  artifactObjects: unknown;
  artifactPrefixes: unknown;
  bedrockReads: unknown;
  bedrockWrites: unknown;
}

interface Statement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export const BEDROCK_ROLE = 'BedrockCustomizationRole';

/**
 * The resource wildcards a service requires, each with why. Anything else with `*` or `?` in an action or a resource
 * is a finding: prefer the exact ARN and the exact action, or add the exception here and explain it in serverless.yml
 * beside the statement. (No action needs `Resource: '*'` today; an action without resource-level permissions, such as
 * bedrock:ListFoundationModels, would be listed here by name.)
 */
export const RESOURCE_STAR_ACTIONS: Record<string, string> = {};

export const WILDCARD_RESOURCES: Array<{ pattern: RegExp; why: string }> = [
  {
    pattern: /^arn:aws:logs:\$\{AWS::Region\}:\$\{AWS::AccountId\}:log-group:\/aws\/lambda\/[^*?]+:\*:\*$/,
    why: "Lambda names a function's log streams at run time; the group is the function's own",
  },
  {
    pattern:
      /^arn:aws:bedrock:\$\{AWS::Region\}:\$\{AWS::AccountId\}:(model-customization-job|custom-model|provisioned-model|custom-model-deployment)\/\*$/,
    why: 'Bedrock assigns job, custom model, provisioned model and deployment ids on creation (of this account and region)',
  },
  {
    pattern: /^arn:aws:bedrock:\$\{AWS::Region\}::foundation-model\/\*$/,
    why: "a run's base model is its configuration's (training.baseModelId), any foundation model of this region",
  },
];

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export function render(v: unknown): string {
  if (typeof v === 'string') return v.replaceAll('${AWS::Partition}', 'aws');
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string') return render(`\${${o.Ref}}`);
    const att = o['Fn::GetAtt'];
    if (att !== undefined) return `\${${Array.isArray(att) ? att.join('.') : String(att)}}`;
    if (typeof o['Fn::Sub'] === 'string') return render(o['Fn::Sub']);
    const join = o['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1]))
      return join[1].map(render).join(join[0]);
  }
  throw new Error(`the rules cannot read ${JSON.stringify(v)}`);
}

const renderAll = (v: unknown) => list(v).map(render);
const actionsOf = (s: Statement) => list(s.Action).map(String);
const ofType = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
const props = (t: Template, id: string) => t.Resources[id]?.Properties ?? {};

/** Every identity policy statement in the template, with the role (or policy) that holds it. */
export function policyStatements(t: Template): Array<{ holder: string; statement: Statement }> {
  const out: Array<{ holder: string; statement: Statement }> = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    const docs =
      r.Type === 'AWS::IAM::Role'
        ? list(r.Properties?.Policies).map((p) => (p as { PolicyDocument: unknown }).PolicyDocument)
        : r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy'
          ? [r.Properties?.PolicyDocument]
          : [];
    for (const doc of docs) {
      for (const statement of list((doc as { Statement?: unknown }).Statement))
        out.push({ holder: id, statement: statement as Statement });
    }
  }
  return out;
}

/** The function (serverless.yml key, lower case first letter as the plugin names roles) each role serves. */
export function functionRoles(t: Template): Map<string, string> {
  const roles = new Map<string, string>();
  for (const [id, r] of ofType(t, 'AWS::Lambda::Function')) {
    const fn = id.replace(/LambdaFunction$/, '');
    roles.set(render(r.Properties?.Role).replace(/^\$\{(.*)\.Arn\}$/, '$1'), fn.charAt(0).toLowerCase() + fn.slice(1));
  }
  return roles;
}

export function wildcardFindings(t: Template, access: Access): string[] {
  const declared = new Set(
    Object.values(access)
      .flatMap(renderAll)
      .filter((r) => r.startsWith('arn:aws:s3:::')),
  );
  const findings: string[] = [];
  for (const { holder, statement: s } of policyStatements(t)) {
    if (s.NotAction !== undefined || s.NotResource !== undefined)
      findings.push(`${holder}: NotAction/NotResource grants everything else`);
    const actions = actionsOf(s);
    for (const a of actions) if (/[*?]/.test(a)) findings.push(`${holder}: action wildcard ${a}`);
    for (const r of renderAll(s.Resource)) {
      if (r === '*') {
        const unexplained = actions.filter((a) => !(a in RESOURCE_STAR_ACTIONS));
        if (unexplained.length) findings.push(`${holder}: Resource '*' for ${unexplained.join(', ')}`);
      } else if (/[*?]/.test(r) && !declared.has(r) && !WILDCARD_RESOURCES.some((w) => w.pattern.test(r))) {
        findings.push(`${holder}: resource wildcard ${r} (${actions.join(', ')})`);
      }
    }
  }
  return findings;
}

const single = (v: unknown) => (Array.isArray(v) && v.length === 1 ? v[0] : v);

export function passRoleFindings(t: Template): string[] {
  const findings: string[] = [];
  let grants = 0;
  for (const { holder, statement: s } of policyStatements(t)) {
    for (const a of actionsOf(s).filter((x) => x.toLowerCase().startsWith('iam:'))) {
      if (a !== 'iam:PassRole') {
        findings.push(`${holder}: ${a} (no function manages IAM)`);
        continue;
      }
      grants++;
      const resources = renderAll(s.Resource);
      if (s.Effect !== 'Allow' || resources.length !== 1 || resources[0] !== `\${${BEDROCK_ROLE}.Arn}`) {
        findings.push(`${holder}: iam:PassRole on ${resources.join(', ')}, not only the Bedrock service role`);
      }
      if (single(s.Condition?.StringEquals?.['iam:PassedToService']) !== 'bedrock.amazonaws.com') {
        findings.push(`${holder}: iam:PassRole without the condition iam:PassedToService = bedrock.amazonaws.com`);
      }
    }
  }
  if (grants === 0) findings.push('no role may pass the Bedrock service role (submit needs iam:PassRole)');
  return findings;
}

/**
 * The Bedrock service role trusts Bedrock only for this account's model customization jobs in this region, as
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-customization-iam-role.html recommends against the
 * confused deputy (aws:SourceAccount, and aws:SourceArn with ArnEquals or ArnLike); a function's role trusts Lambda
 * only.
 */
export function trustFindings(t: Template): string[] {
  const findings: string[] = [];
  const lambdaRoles = functionRoles(t);
  for (const [id, r] of ofType(t, 'AWS::IAM::Role')) {
    const statements = list(
      (r.Properties?.AssumeRolePolicyDocument as { Statement?: unknown })?.Statement,
    ) as Statement[];
    if (id === BEDROCK_ROLE) {
      const s = statements[0];
      const service = single((s?.Principal as { Service?: unknown })?.Service);
      const sourceArn = s?.Condition?.ArnLike?.['aws:SourceArn'] ?? s?.Condition?.ArnEquals?.['aws:SourceArn'];
      if (
        statements.length !== 1 ||
        s?.Effect !== 'Allow' ||
        service !== 'bedrock.amazonaws.com' ||
        single(s.Action) !== 'sts:AssumeRole'
      ) {
        findings.push(`${id}: trust is not exactly bedrock.amazonaws.com assuming the role`);
      }
      if (
        s?.Condition?.StringEquals?.['aws:SourceAccount'] === undefined ||
        render(s.Condition.StringEquals['aws:SourceAccount']) !== '${AWS::AccountId}'
      ) {
        findings.push(`${id}: trust not limited to this account (aws:SourceAccount)`);
      }
      const jobs = 'arn:aws:bedrock:${AWS::Region}:${AWS::AccountId}:model-customization-job/*';
      if (sourceArn === undefined || renderAll(sourceArn).join() !== jobs) {
        findings.push(`${id}: trust not limited to this account's customization jobs (aws:SourceArn ${jobs})`);
      }
    } else if (lambdaRoles.has(id)) {
      for (const s of statements) {
        const services = list((s.Principal as { Service?: unknown })?.Service);
        if (services.length !== 1 || services[0] !== 'lambda.amazonaws.com')
          findings.push(`${id}: trusts ${JSON.stringify(s.Principal)}`);
      }
    } else {
      findings.push(`${id}: a role no function uses and not the Bedrock service role`);
    }
  }
  return findings;
}

/** Each function has a role of its own (serverless-iam-roles-per-function), with no managed policies. */
export function perFunctionRoleFindings(t: Template): string[] {
  const findings: string[] = [];
  const fns = ofType(t, 'AWS::Lambda::Function');
  const roles = functionRoles(t);
  if (roles.size !== fns.length) findings.push(`${fns.length} functions share ${roles.size} roles`);
  for (const [role, fn] of roles) {
    if (t.Resources[role]?.Type !== 'AWS::IAM::Role')
      findings.push(`${fn}: role ${role} is not a role of this template`);
    if (list(props(t, role).ManagedPolicyArns).length)
      findings.push(`${role}: managed policies ${JSON.stringify(props(t, role).ManagedPolicyArns)}`);
  }
  return findings;
}

export function encryptionFindings(t: Template): string[] {
  const findings: string[] = [];
  for (const [id] of ofType(t, 'AWS::SQS::Queue')) {
    const p = props(t, id);
    if (p.SqsManagedSseEnabled !== true && p.KmsMasterKeyId === undefined) findings.push(`${id}: queue not encrypted`);
  }
  for (const [id] of ofType(t, 'AWS::S3::Bucket')) {
    const rules = list(
      (props(t, id).BucketEncryption as { ServerSideEncryptionConfiguration?: unknown })
        ?.ServerSideEncryptionConfiguration,
    );
    const ok = rules.some(
      (r) =>
        (r as { ServerSideEncryptionByDefault?: { SSEAlgorithm?: string } }).ServerSideEncryptionByDefault
          ?.SSEAlgorithm,
    );
    if (!ok) findings.push(`${id}: bucket without default encryption`);
  }
  for (const [id] of ofType(t, 'AWS::DynamoDB::Table')) {
    if ((props(t, id).SSESpecification as { SSEEnabled?: boolean })?.SSEEnabled !== true)
      findings.push(`${id}: table without SSE (KMS)`);
  }
  for (const [id] of ofType(t, 'AWS::SNS::Topic')) {
    if (props(t, id).KmsMasterKeyId === undefined) findings.push(`${id}: topic not encrypted (KmsMasterKeyId)`);
  }
  return findings;
}

/** Buckets block every kind of public access and refuse plain HTTP (a policy denying aws:SecureTransport false). */
export function bucketFindings(t: Template): string[] {
  const findings: string[] = [];
  const policies = ofType(t, 'AWS::S3::BucketPolicy');
  for (const [id] of ofType(t, 'AWS::S3::Bucket')) {
    const block = (props(t, id).PublicAccessBlockConfiguration ?? {}) as Record<string, unknown>;
    for (const k of ['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets']) {
      if (block[k] !== true) findings.push(`${id}: ${k} is not true`);
    }
    const tlsOnly = policies
      .filter(([, p]) => render(p.Properties?.Bucket) === `\${${id}}`)
      .flatMap(([, p]) => list((p.Properties?.PolicyDocument as { Statement?: unknown })?.Statement) as Statement[])
      .some((s) => {
        const resources = renderAll(s.Resource);
        return (
          s.Effect === 'Deny' &&
          single(s.Principal) === '*' &&
          single(s.Action) === 's3:*' &&
          String(s.Condition?.Bool?.['aws:SecureTransport']) === 'false' &&
          resources.some((r) => r.endsWith(`\${${id}}`)) &&
          resources.some((r) => r.endsWith(`\${${id}}/*`))
        );
      });
    if (!tlsOnly) findings.push(`${id}: no bucket policy denying requests without TLS on the bucket and its objects`);
  }
  return findings;
}

/** Every queue but a dead-letter queue has one; every SQS event source reports partial batch failures. */
export function queueFindings(t: Template): string[] {
  const findings: string[] = [];
  const queues = ofType(t, 'AWS::SQS::Queue').map(([id]) => id);
  const dlqs = new Set<string>();
  for (const id of queues) {
    const target = (props(t, id).RedrivePolicy as { deadLetterTargetArn?: unknown })?.deadLetterTargetArn;
    if (target !== undefined) dlqs.add(render(target).replace(/^\$\{(.*)\.Arn\}$/, '$1'));
  }
  for (const id of queues) {
    const redrive = props(t, id).RedrivePolicy as
      { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | undefined;
    if (dlqs.has(id)) continue;
    if (!redrive) findings.push(`${id}: queue without a dead-letter queue`);
    else {
      const target = render(redrive.deadLetterTargetArn).replace(/^\$\{(.*)\.Arn\}$/, '$1');
      if (t.Resources[target]?.Type !== 'AWS::SQS::Queue')
        findings.push(`${id}: dead-letter target ${target} is not a queue of this template`);
      if (!(Number(redrive.maxReceiveCount) >= 1)) findings.push(`${id}: redrive without maxReceiveCount`);
    }
  }
  for (const [id, m] of ofType(t, 'AWS::Lambda::EventSourceMapping')) {
    const source = render(m.Properties?.EventSourceArn).replace(/^\$\{(.*)\.Arn\}$/, '$1');
    if (t.Resources[source]?.Type !== 'AWS::SQS::Queue') continue;
    if (!list(m.Properties?.FunctionResponseTypes).includes('ReportBatchItemFailures'))
      findings.push(`${id}: SQS event source without ReportBatchItemFailures`);
  }
  return findings;
}

/** Resource policies that let a service send to a queue name the sender (aws:SourceArn or aws:SourceAccount). */
export function servicePrincipalFindings(t: Template): string[] {
  const findings: string[] = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    if (!/Policy$/.test(r.Type) || r.Type.startsWith('AWS::IAM::')) continue;
    for (const s of list((r.Properties?.PolicyDocument as { Statement?: unknown })?.Statement) as Statement[]) {
      const service = (s.Principal as { Service?: unknown })?.Service;
      if (s.Effect !== 'Allow' || service === undefined) continue;
      const keys = Object.values(s.Condition ?? {}).flatMap((c) => Object.keys(c));
      if (!keys.includes('aws:SourceArn') && !keys.includes('aws:SourceAccount'))
        findings.push(`${id}: ${JSON.stringify(service)} allowed from any source`);
    }
  }
  return findings;
}

const S3_READS = new Set(['s3:GetObject', 's3:GetObjectVersion']);
const S3_WRITES = new Set(['s3:PutObject']);
/** Functions that read the user's inputs: the datasets, and (evaluate) the prompt file (`evaluation.promptFile`). */
const INPUT_READERS = new Set(['ingest', 'transform', 'evaluate']);

/**
 * Only allowed buckets and prefixes are ever read or written: input reads (ingest, transform, evaluate only) within
 * `custom.access.inputObjects`, each a prefix of a bucket, never a whole bucket; every other function's reads and
 * writes within the run artifacts (`artifactObjects`); the Bedrock service role reads `bedrockReads` and writes
 * `bedrockWrites` only, both inside the artifacts; listing only under `artifactPrefixes`.
 */
export function s3ScopeFindings(t: Template, access: Access): string[] {
  const findings: string[] = [];
  const inputs = renderAll(access.inputObjects);
  const [artifacts] = renderAll(access.artifactObjects);
  const prefixes = renderAll(access.artifactPrefixes);
  const bedrockReads = renderAll(access.bedrockReads);
  const bedrockWrites = renderAll(access.bedrockWrites);
  const artifactsBucket = 'arn:aws:s3:::${ArtifactsBucket}';

  if (!artifacts || !prefixes.every((p) => artifacts === `${artifactsBucket}/${p}`)) {
    findings.push(`custom.access: artifactObjects ${artifacts} is not the artifacts bucket's ${prefixes.join(', ')}`);
  }
  for (const i of inputs) {
    if (!/^arn:aws:s3:::[^/*?]+\/[^*?/]+\/.*\*$/.test(i))
      findings.push(`custom.access: input ${i} is not a prefix of one bucket`);
  }
  for (const r of [...bedrockReads, ...bedrockWrites]) {
    if (!prefixes.some((p) => r.startsWith(`${artifactsBucket}/${p.replace(/\*$/, '')}`)))
      findings.push(`custom.access: ${r} is outside the run artifacts`);
  }

  const roles = functionRoles(t);
  const granted = new Map<string, { reads: Set<string>; writes: Set<string> }>();
  for (const { holder, statement: s } of policyStatements(t)) {
    const fn = roles.get(holder);
    const isBedrock = holder === BEDROCK_ROLE;
    const mayRead = isBedrock ? bedrockReads : fn && INPUT_READERS.has(fn) ? [...inputs, artifacts] : [artifacts];
    const mayWrite = isBedrock ? bedrockWrites : [artifacts];
    const g = granted.get(holder) ?? { reads: new Set(), writes: new Set() };
    granted.set(holder, g);
    for (const a of actionsOf(s).filter((x) => x.startsWith('s3:'))) {
      const resources = renderAll(s.Resource);
      if (a === 's3:ListBucket') {
        const listed = renderAll(s.Condition?.StringLike?.['s3:prefix']);
        if (!resources.every((r) => r === artifactsBucket)) findings.push(`${holder}: lists ${resources.join(', ')}`);
        if (!listed.length || !listed.every((p) => prefixes.includes(p))) {
          findings.push(`${holder}: lists prefixes [${listed.join(', ')}], not only custom.access.artifactPrefixes`);
        }
      } else if (S3_READS.has(a) || S3_WRITES.has(a)) {
        const allowed = S3_READS.has(a) ? mayRead : mayWrite;
        for (const r of resources) {
          if (!allowed.includes(r)) findings.push(`${holder}: ${a} on ${r}, outside [${allowed.join(', ')}]`);
          (S3_READS.has(a) ? g.reads : g.writes).add(r);
        }
      } else {
        findings.push(
          `${holder}: ${a} is not an S3 action these rules know (add it to a read or write set on purpose)`,
        );
      }
    }
  }
  // The Bedrock role must still reach what it is declared to, or every job would fail at its start.
  const b = granted.get(BEDROCK_ROLE);
  for (const r of bedrockReads) if (!b?.reads.has(r)) findings.push(`${BEDROCK_ROLE}: cannot read ${r}`);
  for (const r of bedrockWrites) if (!b?.writes.has(r)) findings.push(`${BEDROCK_ROLE}: cannot write ${r}`);
  return findings;
}
