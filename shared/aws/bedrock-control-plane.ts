/**
 * The Bedrock control plane's client and the commands the orchestration's Bedrock port sends
 * (shared/orchestration/bedrock-adapter.ts), in one module that imports nothing of the project: a function that calls
 * the control plane only now and then (evaluate deletes a model when its gate says so, the sweeper a throughput when
 * it expires) imports it with import() on the first call, and the bundler then puts it in a file of its own beside
 * the handler (scripts/esbuild-plugins.js, separateFiles), not parsed at each cold start.
 */
import { BedrockClient } from '@aws-sdk/client-bedrock';

export {
  CreateCustomModelDeploymentCommand,
  CreateModelCustomizationJobCommand,
  CreateProvisionedModelThroughputCommand,
  DeleteCustomModelCommand,
  DeleteCustomModelDeploymentCommand,
  DeleteProvisionedModelThroughputCommand,
  GetCustomModelDeploymentCommand,
  GetModelCustomizationJobCommand,
  GetProvisionedModelThroughputCommand,
  StopModelCustomizationJobCommand,
} from '@aws-sdk/client-bedrock';

/** The client, with the SDK's configuration chain (endpoint `AWS_ENDPOINT_URL_BEDROCK`; see shared/aws/clients.ts). */
export const makeBedrock = () => new BedrockClient({});
