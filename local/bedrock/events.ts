import { randomUUID } from 'node:crypto';

export type JobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

/**
 * Bedrock's EventBridge "Model Customization Job State Change" event (docs/bedrock-api.md §10). The status is
 * `detail.jobStatus`,
 * not `status`: a rule on `detail.status` never matches. ARNs follow the real formats rather than the doc sample's
 * placeholders, and `validationDataConfig` has the API's `{validators}` shape (the doc says the detail fields are
 * those of GetModelCustomizationJob).
 * https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-eventbridge-how-it-works.html
 */
export interface ModelCustomizationJobStateChange {
  version: '0';
  id: string;
  'detail-type': 'Model Customization Job State Change';
  source: 'aws.bedrock';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    version: '0.0';
    jobName: string;
    jobArn: string;
    outputModelName: string;
    outputModelArn?: string;
    roleArn: string;
    jobStatus: JobStatus;
    failureMessage?: string;
    creationTime: string;
    lastModifiedTime: string;
    endTime?: string;
    baseModelArn: string;
    hyperParameters: Record<string, string>;
    trainingDataConfig: { s3Uri?: string };
    validationDataConfig: { validators: Array<{ s3Uri: string }> };
    outputDataConfig: { s3Uri: string };
  };
}

export function stateChangeEvent(args: {
  account: string;
  region: string;
  detail: Omit<ModelCustomizationJobStateChange['detail'], 'version'>;
}): ModelCustomizationJobStateChange {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Model Customization Job State Change',
    source: 'aws.bedrock',
    account: args.account,
    time: new Date().toISOString(),
    region: args.region,
    resources: [args.detail.jobArn],
    detail: { version: '0.0', ...args.detail },
  };
}
