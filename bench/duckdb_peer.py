"""DuckDB's way of the seed recipe (steps i-iv), the same steps and rules as pandas_baseline.py, to compare against.

read_json, then SQL: build the prompt/completion columns, keep prompt + completion <= 1,500 characters (DuckDB's
length counts code points), drop duplicate pairs, sample 10,000 training and 1,000 validation records with a seed
(reservoir sampling, repeatable), and COPY each set out as JSON Lines. Prints one JSON line: records, eligible,
seconds (the steps alone), and the whole process's CPU seconds and peak RSS so far.
"""
import json, os, resource, sys, time

import duckdb

src, out = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
os.makedirs(out, exist_ok=True)
con = duckdb.connect()
# The fields of a record, as pandas reads them (every one a string); the corpus's other fields are not read.
con.execute(
    """
    CREATE TEMP TABLE prepared AS
    SELECT CASE WHEN coalesce(input, '') <> '' THEN '入力:' || instruction || chr(10) || '知識:' || input
                ELSE instruction END AS prompt,
           output AS completion
    FROM read_json(?, format = 'newline_delimited',
                   columns = {instruction: 'VARCHAR', input: 'VARCHAR', output: 'VARCHAR'})
    """,
    [src],
)
records = con.execute("SELECT count(*) FROM prepared").fetchone()[0]
con.execute(
    """
    CREATE TEMP TABLE eligible AS
    SELECT DISTINCT prompt, completion FROM prepared WHERE length(prompt) + length(completion) <= 1500
    """
)
eligible = con.execute("SELECT count(*) FROM eligible").fetchone()[0]
con.execute(
    f"""
    CREATE TEMP TABLE sample AS
    SELECT prompt, completion, row_number() OVER () AS n
    FROM (SELECT * FROM eligible USING SAMPLE reservoir({min(11000, eligible)} ROWS) REPEATABLE (42))
    """
)
for name, where in (("train", "n <= 10000"), ("validation", "n > 10000")):
    path = os.path.join(out, f"{name}.jsonl").replace("'", "''")
    con.execute(f"COPY (SELECT prompt, completion FROM sample WHERE {where}) TO '{path}' (FORMAT json)")
seconds = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"duckdb": duckdb.__version__, "threads": con.execute("SELECT current_setting('threads')").fetchone()[0],
                  "records": int(records), "eligible": int(eligible), "seconds": seconds,
                  "cpuSeconds": usage.ru_utime + usage.ru_stime, "peakRssMB": usage.ru_maxrss / 1024}))
