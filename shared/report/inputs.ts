import type { Run } from '../runs/run';
import type { EvaluationSample, LengthBin, LossPoint, SplitManifest } from '../artifacts';

export type { EvaluationSample, LengthBin, LossPoint };

/** Everything the run report shows, each artifact as its schema defines it; building the report from these is pure. */
export interface ReportInputs {
  run: Run;
  /** Stage 0's manifest.json, absent until the split has written it. */
  manifest?: SplitManifest;
  training?: LossPoint[];
  validation?: LossPoint[];
  evaluationSamples?: EvaluationSample[];
  /** When the report was made (shown on the page; injected for reproducible output). */
  generatedAt: string;
}
