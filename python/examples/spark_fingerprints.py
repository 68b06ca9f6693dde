"""The offline fingerprint job on Apache Spark, for embedding tables beyond one machine.

Input: a Parquet table of ``(item_id: int64, emb: array<float>)`` rows (every ``emb`` of length
``d``). Output: a Parquet table of ``(item_id: int64, fp: array<int64>)``, the ``lanes`` lanes of
each fingerprint as int64 bit patterns (numpy ``view(np.uint64)`` gives the library's lanes back;
for m <= 32 the single lane holds the uint8/16/32 value). Each Spark task hashes whole Arrow
record batches with one ``Hasher.encode`` call (``mapInArrow``: the embedding column's values are
read from Arrow's buffer as one ``(n, d)`` float32 array, without a per-row loop). The seed fixes
the projection on every executor, so the fingerprints equal the single-machine job's
(``fingerprint_table.py``), bit for bit.

Executors need the package installed (``pip install ./python`` on each node, or ship the wheel
with ``--py-files`` / a packed environment). Run here in local mode::

    pip install pyspark pyarrow pandas     # and Java 17
    python examples/spark_fingerprints.py --demo-rows 200000 --dim 64 --m 64 /tmp/spark_demo
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import eta_hamming as eh


def make_demo(path, rows, d):
    rng = np.random.default_rng(0)
    emb = rng.standard_normal((rows, d), dtype=np.float32)
    values = pa.array(emb.reshape(-1))
    col = pa.ListArray.from_arrays(pa.array(np.arange(0, rows * d + 1, d, dtype=np.int32)), values)
    pq.write_table(pa.table({"item_id": pa.array(np.arange(rows, dtype=np.int64)), "emb": col}), path,
                   row_group_size=50_000)
    return emb


def hash_batches(d, m, seed):
    """The function Spark runs on each partition: Arrow batches in, Arrow batches out."""

    def run(batches):
        hasher = eh.Hasher(d, m, seed=seed)
        for rb in batches:
            col = rb.column(rb.schema.get_field_index("emb"))
            n = len(col)
            flat = col.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
            if flat.size != n * d:
                raise ValueError(f"every embedding must have d = {d} values")
            fps = hasher.encode(flat.reshape(n, d))  # (n, lanes)
            lanes = fps.shape[1]
            wide = fps.astype(np.uint64).view(np.int64).reshape(-1)
            fp = pa.ListArray.from_arrays(pa.array(np.arange(0, n * lanes + 1, lanes, dtype=np.int32)), pa.array(wide))
            yield pa.RecordBatch.from_arrays([rb.column(rb.schema.get_field_index("item_id")), fp], ["item_id", "fp"])

    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workdir")
    ap.add_argument("--demo-rows", type=int, default=200_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--m", type=int, default=64)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--partitions", type=int, default=8)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    src, dst = os.path.join(a.workdir, "items.parquet"), os.path.join(a.workdir, "fingerprints.parquet")
    emb = make_demo(src, a.demo_rows, a.dim)

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[*]").appName("eta-fingerprints")
             .config("spark.sql.execution.arrow.maxRecordsPerBatch", 65536)
             .config("spark.ui.enabled", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    t0 = time.perf_counter()
    df = spark.read.parquet(src).repartition(a.partitions)
    out = df.mapInArrow(hash_batches(a.dim, a.m, a.seed), "item_id long, fp array<long>")
    out.write.mode("overwrite").parquet(dst)
    dt = time.perf_counter() - t0
    spark.stop()

    # Check: the Spark table equals the single-machine encode of the same rows.
    t = pq.read_table(dst)
    ids = t.column("item_id").to_numpy()
    lanes = eh.layout(a.m)[1]
    got = np.asarray(t.column("fp").combine_chunks().flatten()).view(np.uint64).reshape(-1, lanes)
    want = eh.Hasher(a.dim, a.m, seed=a.seed).encode(emb)[ids].astype(np.uint64)
    assert len(ids) == a.demo_rows and np.array_equal(np.sort(ids), np.arange(a.demo_rows))
    assert np.array_equal(got, want), "Spark fingerprints differ from the local ones"
    print(f"spark local[*]: {a.demo_rows} rows, d = {a.dim}, m = {a.m}, {a.partitions} partitions in {dt:.1f} s "
          f"(Spark start-up and Parquet I/O included); written to {dst}; equal to the local encode")


if __name__ == "__main__":
    main()
