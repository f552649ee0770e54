import type { RecordCounts, RejectReason } from '../artifacts/reasons';
import type { RunConfig } from '../config/run-config';

/**
 * What to change when a split finds too few records to train on: the reason that dropped the most records names the
 * setting behind it (a template reading fields the data does not have, a length limit, duplicates...). `stage` is
 * the path of the stage's settings (`stages[1].` for a chained run's later stage, '' for the run's own).
 */
export function tooFewRecordsHint(counts: RecordCounts | undefined, config: RunConfig, stage = ''): string {
  const sizes =
    `or lower ${stage}split.train / validation / test to what the data holds` +
    (config.split.whenShort === 'fail' ? ` (or set ${stage}split.whenShort to "shrink")` : '');
  const top = Object.entries(counts?.byReason ?? {}).sort((a, b) => b[1] - a[1])[0] as
    [RejectReason, number] | undefined;
  if (!counts || !top || top[1] === 0) return `give the run more data, ${sizes}`;
  const [reason, n] = top;
  const t = config.prep.template;
  const of = `${n} of ${counts.input} records were dropped as ${reason}`;
  switch (reason) {
    case 'rejected:missing_field': {
      const fields =
        t.kind === 'text'
          ? `its document field "${t.textField}" (${stage}prep.template.textField)`
          : t.kind === 'fields'
            ? `the fields "${t.promptField}" and "${t.completionField}" (${stage}prep.template.promptField, completionField)`
            : `the fields "${t.instructionField}" and "${t.outputField}" (${stage}prep.template.instructionField, ` +
              'outputField)';
      const text =
        t.kind === 'text'
          ? ''
          : `; for documents to continue pre-training on, set ${stage}prep.template.kind to "text"`;
      return (
        `${of}: the "${t.kind}" template reads ${fields}, which they lack. Name your fields (or CSV columns) in ` +
        `${stage}prep.template${text}; rejects.jsonl says which field each record lacks`
      );
    }
    case 'rejected:wrong_type':
      return `${of}: a field the "${t.kind}" template reads is not text; map the right fields in ${stage}prep.template`;
    case 'rejected:not_json':
    case 'rejected:bad_row':
    case 'rejected:not_object':
      return `${of}: check the file's format (set ${stage}prep.format if it was detected wrongly); rejects.jsonl has each line`;
    case 'filtered:too_long_chars':
      return `${of}: raise ${stage}prep.filters.maxChars (now ${config.prep.filters.maxChars}), ${sizes}`;
    case 'filtered:too_many_tokens':
    case 'filtered:sentence_too_long':
      return `${of}: set ${stage}prep.filters.maxTokens, or a smaller batchSize (a larger per-record limit), ${sizes}`;
    case 'filtered:empty':
      return `${of}: the fields the template reads are blank; check ${stage}prep.template, or set ${stage}prep.filters.dropEmpty`;
    case 'filtered:reserved_word':
      return (
        `${of}: their prompts hold a keyword the base model reserves (such as "User:" or "Bot:"; rejects.jsonl names ` +
        `each), which would fail the job; reword those records, or choose another ${stage}training.baseModelId`
      );
    case 'filtered:duplicate':
      return `${of}: set ${stage}prep.filters.dropDuplicates to false to keep repeats, ${sizes}`;
  }
}
