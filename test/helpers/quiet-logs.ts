/**
 * Jest setup: the functions' structured logs are off in tests unless a run asks for them (`BTP_TEST_LOGS=1`), so a
 * green `npm test` prints test results only. Handlers run in-process and in the local stack's worker threads, which
 * take the level from this environment (local/stack.ts). Powertools Logger reads the level when it is built, so this
 * runs before any test module is loaded. The handlers' metrics (EMF lines on stdout, Powertools Metrics) are off too
 * (test/unit/lambda turns them on to check them).
 */
if (!process.env.BTP_TEST_LOGS) process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
