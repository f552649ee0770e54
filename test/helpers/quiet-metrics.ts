// Jest setup: the handlers' metrics (EMF lines on stdout) stay off unless a test asks for them.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
