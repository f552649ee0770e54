import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger } from './logger';

/**
 * One metrics instance for the app, flushed by the handler wrapper (logMetrics): the figures go out as CloudWatch
 * embedded metric format (EMF) lines on stdout, which Lambda's log stream turns into metrics without an API call.
 * Namespace and service come from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME; POWERTOOLS_METRICS_DISABLED
 * turns the output off (the tests and the local stack, which has no CloudWatch).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export const metrics = new Metrics({
  // Most invocations count nothing (a transform, a poll): Powertools warns of that on every flush, so its warnings
  // are debug lines here.
  logger: {
    debug: logger.debug.bind(logger),
    info: logger.info.bind(logger),
    warn: logger.debug.bind(logger),
    error: logger.error.bind(logger),
  },
});

/** The figures operations watch, with their units. */
export const FIGURES = {
  /** Records written to the train, validation and test sets (split). */
  RecordsPrepared: MetricUnit.Count,
  /** Customization jobs created (submit). */
  JobsSubmitted: MetricUnit.Count,
  /** Hours a Provisioned Throughput was held, counted when it is deleted (provision, sweeper). */
  ThroughputHours: MetricUnit.Count,
} as const;
export type Figure = keyof typeof FIGURES;

/** The port domain steps count with; tests pass a recorder. */
export type CountFigure = (figure: Figure, value: number) => void;

export const countFigure: CountFigure = (figure, value) => metrics.addMetric(figure, FIGURES[figure], value);
