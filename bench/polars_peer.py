"""polars's way of the seed recipe (steps i-iv), the same steps and rules as pandas_baseline.py, to compare against.

read_ndjson, then expressions: build the prompt/completion columns, keep prompt + completion <= 1,500 characters
(str.len_chars counts code points), drop duplicate pairs, sample 10,000 training and 1,000 validation records with a
seed, and write_ndjson each set. Prints one JSON line: records, eligible, seconds (the steps alone), and the whole
process's CPU seconds and peak RSS so far.
"""
import json, os, resource, sys, time

import polars as pl

src, out = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
os.makedirs(out, exist_ok=True)
# The fields of a record, as pandas reads them (every one a string); the corpus's other fields are not read.
df = pl.read_ndjson(src, schema={"instruction": pl.String, "input": pl.String, "output": pl.String})
has_input = pl.col("input").fill_null("").str.len_chars() > 0
prepared = df.select(
    prompt=pl.when(has_input)
    .then(pl.lit("入力:") + pl.col("instruction") + pl.lit("\n知識:") + pl.col("input"))
    .otherwise(pl.col("instruction")),
    completion=pl.col("output"),
)
eligible = prepared.filter(
    pl.col("prompt").str.len_chars() + pl.col("completion").str.len_chars() <= 1500
).unique(subset=["prompt", "completion"], keep="first", maintain_order=True)
sample = eligible.sample(n=min(11000, eligible.height), seed=42, shuffle=True)
sample.head(10000).write_ndjson(os.path.join(out, "train.jsonl"))
sample.slice(10000, 1000).write_ndjson(os.path.join(out, "validation.jsonl"))
seconds = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"polars": pl.__version__, "threads": pl.thread_pool_size(),
                  "records": df.height, "eligible": eligible.height, "seconds": seconds,
                  "cpuSeconds": usage.ru_utime + usage.ru_stime, "peakRssMB": usage.ru_maxrss / 1024}))
