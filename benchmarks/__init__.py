"""Side-by-side benchmark: this project's LSTM against classic baselines, a naive LSTM and DistilBERT.

Every row runs in one process, on the same data, threads and machine, so the ratios between rows hold even when the
absolute numbers move with the load of a shared CPU. `python -m benchmarks` (or `python scripts/benchmark.py`) parses
flags and prints.

This package sits beside `modeling_lstm/` and `configs/` in the source tree and is not installed with the library: it
trains and predicts through the library's public functions like any script. Modules: settings (what a run is given
and records), measure (clocks and sizes), rows_ours / rows_baselines / rows_naive / rows_distilbert (one family of
rows each), targets (the goals, and which number each one reads), report (the Markdown), run (the whole run),
__main__ (the command line); scale and scale_data: the scale family (`python -m benchmarks --scale`), which trains
and predicts in child processes on data replicated to 100k-4M rows and reads each training phase's seconds and peak
RSS from all_results.json.

Rows:
- ours: `modeling_lstm.training.main` with the dataset's YAML config (tokenizer training included in the wall time),
  then the saved folder reloaded as users get it (AutoTokenizer + AutoModelForSequenceClassification) and timed with
  tokenisation included; the same model through `pipeline(...)` and predict.py's path, int8, bf16, one thread.
- TF-IDF + logistic regression and fastText: the classic baselines.
- a naive PyTorch LSTM written as tutorials write it (word vocabulary, every batch padded to one fixed length, no
  length grouping, last hidden state), with our sizes and epochs: what the project's engineering is measured against.
- DistilBERT-base for speed only: its standard config with random weights (weights do not change speed); its
  accuracy is quoted from publications.
"""
