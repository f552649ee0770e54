import type { Run } from '../runs/run';
import type { EvaluationSample, LengthBin, LossPoint, SplitManifest } from '../artifacts';

/** One evaluated run of the comparison: its scores (from its record) and its answers (its samples.jsonl). */
export interface ComparedRun {
  run: Run;
  /** How the report names it: the variant's name, or the run id. */
  label: string;
  samples: EvaluationSample[];
}

export type { EvaluationSample, LengthBin, LossPoint };

/** Everything the run report shows, each artifact as its schema defines it; building the report from these is pure. */
export interface ReportInputs {
  run: Run;
  /** Stage 0's manifest.json, absent until the split has written it. */
  manifest?: SplitManifest;
  training?: LossPoint[];
  validation?: LossPoint[];
  evaluationSamples?: EvaluationSample[];
  /** The evaluated runs compared in the report's scores section: the run itself, and the runs it is compared with. */
  comparison?: ComparedRun[];
  /** When the report was made (shown on the page; injected for reproducible output). */
  generatedAt: string;
}
