"""The pandas way of the seed recipe (steps 1-4), as the issue describes it, to compare against.

read_json(lines=True), build the prompt/completion columns, keep prompt + completion <= 1,500 characters (Python's
len counts code points), sample 10,000 training and 1,000 validation records with a seed, write each with to_json.
Prints one JSON line: records, eligible, seconds (the steps alone), and the whole process's CPU seconds and peak RSS
so far.
"""
import json, os, resource, sys, time

import pandas as pd

src, out = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
df = pd.read_json(src, lines=True, dtype=False)
has_input = df["input"].fillna("").astype(str).str.len() > 0
df["prompt"] = df["instruction"].where(~has_input, "入力:" + df["instruction"] + "\n知識:" + df["input"])
df["completion"] = df["output"]
df = df[(df["prompt"].str.len() + df["completion"].str.len()) <= 1500]
df = df.drop_duplicates(subset=["prompt", "completion"])
sample = df.sample(n=min(11000, len(df)), random_state=42)
train, validation = sample.iloc[:10000], sample.iloc[10000:11000]
os.makedirs(out, exist_ok=True)
train[["prompt", "completion"]].to_json(os.path.join(out, "train.jsonl"), orient="records", lines=True, force_ascii=False)
validation[["prompt", "completion"]].to_json(os.path.join(out, "validation.jsonl"), orient="records", lines=True, force_ascii=False)
seconds = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"records": int(len(has_input)), "eligible": int(len(df)), "seconds": seconds,
                  "cpuSeconds": usage.ru_utime + usage.ru_stime, "peakRssMB": usage.ru_maxrss / 1024}))
