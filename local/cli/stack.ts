/**
 * `npm run stack [-- --data-dir .local/state] [--endpoint-env .local/stack.env] [--catalog-date YYYY-MM-DD]`: the
 * local stack in the foreground.
 * Prints the endpoints and writes an env file so any AWS client (the AWS CLI, boto3, an SDK) can upload datasets,
 * post queue messages and query the table (btp reads it with the option of the same name). Ctrl-C stops it cleanly.
 * The option is not `--env-file`: Node takes that one for itself wherever it stands and fails when the file is not
 * there yet (https://nodejs.org/api/cli.html#--env-filefile).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startStack, writeEnvFile } from '../stack';

async function main() {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      'endpoint-env': { type: 'string', default: '.local/stack.env' },
      // Plays Bedrock's model lifecycle as of that day (e.g. 2024-02-01 for the 2024 Titan recipe); absent: today.
      'catalog-date': { type: 'string' },
    },
  });
  const stack = await startStack({
    dataDir: values['data-dir'] ? path.resolve(values['data-dir']) : undefined,
    retryDelaySeconds: 2,
    ...(values['catalog-date'] ? { catalogDate: values['catalog-date'] } : {}),
    onInvoke: ({ functionName, records, failed, error }) =>
      console.log(
        `${new Date().toISOString()} ${functionName}: ${records} record(s), ${failed} failed${error ? ` (${error.message})` : ''}`,
      ),
  });
  const extra: Record<string, string> = {
    BTP_DATASETS_BUCKET: stack.bucketName('DatasetsBucket'),
    BTP_ARTIFACTS_BUCKET: stack.bucketName('ArtifactsBucket'),
    BTP_RUNS_TABLE: stack.tableName('RunsTable'),
  };
  // IngestQueue -> BTP_INGEST_QUEUE_URL, IngestDLQ -> BTP_INGEST_DLQ_URL: the names the functions get.
  for (const id of Object.keys(stack.topology.queues))
    extra[`BTP_${id.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}_URL`] = stack.queueUrl(id);
  for (const topic of Object.values(stack.topology.topics)) {
    extra.BTP_NOTIFICATIONS_TOPIC_ARN = topic.arn;
    extra.BTP_NOTIFICATIONS_QUEUE_URL = stack.topicSubscriberQueueUrl(topic.logicalId);
  }
  const envFile = path.resolve(values['endpoint-env']!);
  mkdirSync(path.dirname(envFile), { recursive: true });
  writeEnvFile(envFile, stack.clientEnv, extra);
  const relative = path.relative(process.cwd(), envFile);
  const shown = relative.startsWith('..') ? envFile : relative;

  console.log('Local stack running (no model is trained: the Bedrock emulator only plays out lifecycles).');
  for (const [k, v] of Object.entries(stack.endpoints)) if (v) console.log(`  ${k.padEnd(9)} ${v}`);
  console.log(`  datasets  s3://${extra.BTP_DATASETS_BUCKET}/datasets/`);
  console.log(`  table     ${extra.BTP_RUNS_TABLE}`);
  console.log(`Environment for AWS clients written to ${envFile}: \`set -a; . ${shown}; set +a\``);
  console.log('Press Ctrl-C to stop.');

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping...');
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
