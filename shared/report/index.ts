export { buildReport, type RunReport } from './build-report';
export type { ReportInputs, LossPoint, LengthBin, EvaluationSample } from './inputs';
export { loadReportInputs, writeReport, reportKeys } from './load';
