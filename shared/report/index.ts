export { buildReport, type RunReport } from './build-report';
export { parseMetricsCsv, readEvaluationSamples, readManifest, type ReportInputs, type ManifestView, type LossPoint, type LengthBin, type EvaluationSample } from './inputs';
export { loadReportInputs, writeReport, reportKeys } from './load';
