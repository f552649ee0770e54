import type { ScoreSummary } from '../artifacts';
import type { EvaluationConfig } from '../config/run-config';

/** The gate's rule (config `evaluation.gate`). */
export type GateRule = EvaluationConfig['gate'];

/** What the gate decided for one evaluated model, and why (each condition it checked, in words). */
export interface GateDecision {
  decision: 'keep' | 'delete';
  reasons: string[];
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(3));

/**
 * Whether an evaluated variant keeps its Provisioned Throughput. It keeps it when at least `minJapaneseRatio` of its
 * answers are mostly in Japanese and, with `overlapAboveBase` and a base model's scores to compare with, its mean
 * overlap (chrF) is above the base model's. A variant that answered nothing cannot show either and loses. Without
 * base scores the overlap condition is not checked, and the reasons say so.
 *
 * Each variant is judged against the rule and the base model alone, never against its siblings, so a variant's
 * decision can be taken as soon as its own evaluation ends: its throughput stops billing at once.
 */
export function decideGate(
  scores: ScoreSummary | undefined,
  base: ScoreSummary | undefined,
  rule: GateRule,
): GateDecision {
  const reasons: string[] = [];
  let keep = true;
  const ratio = scores?.japaneseRatio;
  if (!scores || scores.answered === 0 || ratio === null || ratio === undefined) {
    return { decision: 'delete', reasons: ['the model answered none of the evaluation prompts'] };
  }
  if (ratio >= rule.minJapaneseRatio) reasons.push(`Japanese answers ${fmt(ratio)} >= ${fmt(rule.minJapaneseRatio)}`);
  else {
    keep = false;
    reasons.push(`Japanese answers ${fmt(ratio)} < ${fmt(rule.minJapaneseRatio)}`);
  }
  if (rule.overlapAboveBase) {
    if (base?.overlap === null || base?.overlap === undefined) {
      reasons.push('overlap not compared: no base model scores');
    } else if (scores.overlap !== null && scores.overlap > base.overlap) {
      reasons.push(`overlap ${fmt(scores.overlap)} > base model's ${fmt(base.overlap)}`);
    } else {
      keep = false;
      reasons.push(
        `overlap ${scores.overlap === null ? 'unknown (no references)' : fmt(scores.overlap)} not above base model's ${fmt(base.overlap)}`,
      );
    }
  }
  return { decision: keep ? 'keep' : 'delete', reasons };
}
