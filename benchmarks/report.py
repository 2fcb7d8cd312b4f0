"""The Markdown report: the table, the notes, the ratios and the targets."""

from __future__ import annotations

import json
from pathlib import Path

from modeling_lstm.hardware import machine_is_busy

from .targets import phase_growth


def _number(value, digits: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _percent(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def format_table(rows: dict[str, dict], batch_size: int) -> str:
    header = (
        "| Model | Test acc. | Macro-F1 | Train wall (s) | s / epoch | Train samples/s | Train tokens/s "
        f"| Peak RSS MB (+increase) | Batch-{batch_size} texts/s | Latency p50 / p95 (ms) | Params | Size (MB) |"
    )
    lines = [header, "|" + "---|" * header.count(" | ") + "---|"]
    for key, row in rows.items():
        accuracy = _percent(row["accuracy"])
        if key == "distilbert" and row["accuracy"] is not None:
            accuracy += " (published)"
        memory = (
            "–"
            if row["peak_rss_mb"] is None
            else f"{row['peak_rss_mb']:,.0f} (+{max(row['rss_increase_mb'], 0):,.0f})"
        )
        latency = (
            "–"
            if row["latency_median_ms"] is None
            else f"{row['latency_median_ms']:.2f} / {row['latency_p95_ms']:.2f}"
        )
        cells = [
            row["name"],
            accuracy,
            _percent(row["macro_f1"]),
            _number(row["train_seconds"], 1),
            _number(row["epoch_seconds"], 2),
            _number(row["train_samples_per_second"]),
            _number(row["train_tokens_per_second"]),
            memory,
            _number(row["texts_per_second"]),
            latency,
            "–" if row["parameters"] is None else f"{row['parameters'] / 1e6:.2f} M",
            _number(row["size_mb"], 1),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_report(result: dict) -> str:
    data = result["data"]
    parts = [
        f"## {result['dataset']}{' (--quick subset: smoke test, not a measurement)' if result['quick'] else ''}",
        "",
        f"Data: {data['train']:,} train / {data['validation'] or 0:,} validation / {data['test']:,} test texts. "
        + _machine_line(result["machine"]),
        "",
        format_table(result["rows"], result["settings"]["batch_size"]),
        "",
        "Notes:",
    ]
    parts += [f"- {row['name']}: {row['notes']}" for row in result["rows"].values() if row["notes"]]
    ratios = result["ratios"]
    if ratios:
        parts += ["", "Ratios:"]
        if "speedup_vs_distilbert" in ratios:
            parts.append(
                f"- batched texts/s, ours / DistilBERT: x{_number(ratios['speedup_vs_distilbert'], 0)}; "
                f"single-text latency, DistilBERT / ours: x{_number(ratios['latency_speedup_vs_distilbert'], 1)}"
            )
        if "epoch_speedup_vs_naive" in ratios:
            parts.append(
                f"- seconds per epoch, naive / ours: x{_number(ratios['epoch_speedup_vs_naive'], 1)}"
            )
        if "time_to_accuracy_speedup_vs_naive" in ratios:
            bound = (
                ""
                if ratios["time_to_accuracy_naive_reached"]
                else " (at least: the naive LSTM never got there)"
            )
            parts.append(
                f"- time to the target validation accuracy, naive / ours: "
                f"x{_number(ratios['time_to_accuracy_speedup_vs_naive'], 1)}{bound}"
            )
    if result["targets"]:
        parts += ["", format_targets(result["targets"])]
    return "\n".join(parts)


def format_targets(targets: list[dict]) -> str:
    lines = ["| Target | Goal | This run | Met |", "|---|---|---|---|"]
    for target in targets:
        goal = target["goal"]
        value = target["value"]
        if target["target"] == "accuracy":
            goal_text, value_text = f"{target['comparison']} {_percent(goal)}", _percent(value)
        else:
            goal_text = f"{target['comparison']} {goal:g}"
            value_text = _number(value, 2 if value and abs(value) < 100 else 0)
        met = {True: "yes", False: "**no**", None: "n/a"}[target["passed"]]
        lines.append(f"| {target['description']} | {goal_text} | {value_text} | {met} |")
    return "\n".join(lines)


def _machine_line(machine: dict) -> str:
    return (
        f"Machine: {machine['cpu']}, {machine['cores_available']} core(s), {machine['torch_threads']} torch "
        f"thread(s), GPU: {machine['gpu'] or 'none'}; torch {machine['torch']}, transformers "
        f"{machine['transformers']}; OMP_WAIT_POLICY={machine['environment']['OMP_WAIT_POLICY'] or 'default'}; "
        f"load average {_load(machine['load_average_at_start'])} at start, "
        f"{_load(machine['load_average_at_end'])} at end{_shared_note(machine)}."
    )


def _shared_note(machine: dict) -> str:
    # Only the load before the run tells of other processes: at the end, the benchmark's own threads are in it.
    load = machine["load_average_at_start"]
    if load and machine_is_busy(load[0], machine["cores_available"]):
        return " (other processes kept every core busy at the start, so absolute numbers are pessimistic)"
    return ""


def _load(values) -> str:
    return "n/a" if not values else " / ".join(f"{value:.2f}" for value in values)


# The training phases in the order a run goes through them (all_results.json's phase_seconds).
PHASES = ("input check", "load", "tokenizer training", "tokenisation", "training", "evaluation", "saving")


def format_training_scale(training: list[dict]) -> str:
    phases = [*PHASES, *sorted({name for row in training for name in row["phase_seconds"]} - set(PHASES))]
    header = ["Train rows", "Wall (s)", *[f"{name} s (s/100k)" for name in phases]]
    header += ["Other s (imports, setup)", "Peak RSS MB", "Train samples/s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in training:
        cells = [f"{row['rows']:,}", _number(row["wall_seconds"], 1)]
        cells += [
            "–"
            if name not in row["phase_seconds"]
            else f"{row['phase_seconds'][name]:,.1f} ({row['seconds_per_100k'][name]:,.1f})"
            for name in phases
        ]
        other = row["wall_seconds"] - sum(row["phase_seconds"].values())
        cells += [_number(other, 1), _number(row["peak_rss_mb"]), _number(row["train_samples_per_second"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_predict_scale(rows: list[dict]) -> str:
    lines = [
        "| Lines | Launcher | Processes | Wall (s) | Texts/s | Peak RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [f"{row['lines']:,}", row["launcher"], str(row["processes"]), _number(row["wall_seconds"], 1)]
        cells += [_number(row["texts_per_second"]), _number(row["peak_rss_mb"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_scale_report(result: dict) -> str:
    """The scale family: phases per training set size, predict.py per input size and process count, targets."""
    parts = [f"## Scale ({result['source']}, seed {result['seed']})", "", _machine_line(result["machine"])]
    if result["training"]:
        growth = ", ".join(f"{name} x{value:.2f}" for name, value in phase_growth(result["training"]).items())
        parts += ["", format_training_scale(result["training"])]
        parts += ["", f"Seconds per 100k rows, largest set / smallest: {growth or 'n/a'}."]
    if result["predict"] or result["predict_parallel"]:
        parts += ["", format_predict_scale(result["predict"] + result["predict_parallel"])]
    parts += ["", format_targets(result["targets"])]
    return "\n".join(parts)


def print_and_save(result: dict, output: Path | None) -> None:
    """Print the run's Markdown; write the whole result as JSON to `output` when given."""
    print(result["markdown"])
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(result, indent=2), encoding="utf-8")
