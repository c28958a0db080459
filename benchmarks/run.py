"""guidedeck's benchmark (issue 8): one command, medians of alternating runs.

    python benchmarks/run.py [--runs N] [--corpus DIR]

Measures, each against its reference, run by this same interpreter:
1. `guidedeck build` of the 16 corpus guides (a rebuild, lock file present, the everyday case;
   and a first build, no lock) vs the bare baseline in benchmarks/baseline.py;
2. `guidedeck --help` vs `python -c "import click"`;
3. 160 guides (the corpus ten times) vs 16: time ratio and peak-memory ratio;
4. a mass edit (benchmarks/mass_edit.py: a 1,000-row table whose header is renamed and 1,000
   quizzes each changed by a word) rebuilt, vs the same guide rebuilt without an edit: matching
   every changed card to its note must stay near-linear.
5. incremental builds of the 160 guides (issue 17): a rebuild with the cache and no edit, and one
   with one guide edited, vs a full build (--no-cache); and the cached rebuild's peak memory
   against that of 16 guides.
6. `guidedeck serve`: the median time from saving a corpus guide to its open page (headless
   Chromium) showing the edit, in seconds (skipped where playwright or chromium is missing).
7. a cold build of the 16 guides (fresh output folder, no lock file, no cache: the first build
   of a clone) vs the baseline, with its cache written as a user's first build writes it;
8. the 20,000-row table against 10,000 rows (time must stay linear in rows).
Rows 1 to 4 measure the full work (--no-cache). Peak memory is the largest resident set of any
guidedeck process (main or worker). guidedeck's modules are first compiled to byte-code, as
`pip install .` (the README's install) leaves them and as the baseline's libraries are: an
editable install run with PYTHONDONTWRITEBYTECODE would otherwise compile every module of
guidedeck from source in every measured process.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import serve_latency
from mass_edit import mass_guide

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"cold build/baseline": 0.8, "build/baseline": 1.5, "first build/baseline": 1.5,
           "help/import click": 1.5, "160/16 time": 10.5, "160/16 memory": 1.5,
           "mass edit/rebuild": 3.0, "no-edit rebuild/full": 0.05, "one edited/full": 0.1,
           "cached 160/16 memory": 1.5, "serve save to page (s)": 0.5,
           "20,000-row table (s)": 5.0, "20,000/10,000 rows time": 2.2}  # fmt: skip
"""Issue #28's targets: a cold build (fresh output folder, no lock, no cache) under the bare
pipeline, a rebuild with nothing to do near the cost of a stat, time linear in table rows."""


def run(argv: list[str], cwd: Path | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of a child process, which must succeed."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(
            f"failed: {' '.join(argv)}\n{proc.stderr.read().decode() if proc.stderr else ''}"
        )
    return seconds, usage.ru_maxrss


def corpus_copy(corpus: Path, folder: Path, times: int) -> Path:
    folder.mkdir(parents=True)
    for guide in sorted(p for p in corpus.glob("*.md") if p.name != "README.md"):
        for n in range(times):
            name = guide.name if times == 1 else f"{guide.stem}-{n}.md"
            shutil.copyfile(guide, folder / name)
    return folder


def edit_one(guide: Path, n: int) -> None:
    """Change a word of the first row of the guide's last table (a card, unlike the overview
    table at the top), a different word each time."""
    lines = guide.read_text(encoding="utf-8").split("\n")
    rows = [
        i
        for i in range(1, len(lines))
        if lines[i].startswith("|") and "---" not in lines[i] and "---" in lines[i - 1]
    ]
    if not rows:
        raise SystemExit(f"{guide}: no table row to edit")
    cells = lines[rows[-1]].split("|")
    cells[1] = re.sub(r" \(v\d+\)$", "", cells[1].rstrip()) + f" (v{n}) "
    lines[rows[-1]] = "|".join(cells)
    guide.write_text("\n".join(lines), encoding="utf-8")


def medians(runs: int, *jobs: Callable[[], tuple[float, int]]) -> list[tuple[float, int]]:
    """Run the jobs alternately ``runs`` times; median time and max memory of each."""
    results: list[list[tuple[float, int]]] = [[] for _ in jobs]
    for _ in range(runs):
        for n, job in enumerate(jobs):
            results[n].append(job())
    return [(statistics.median(t for t, _ in r), max(m for _, m in r)) for r in results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = parser.parse_args()
    py = sys.executable
    # as an installed guidedeck runs (pip compiles every module when it installs one)
    compileall.compile_dir(ROOT / "cli" / "guidedeck", quiet=1)
    with tempfile.TemporaryDirectory(prefix="guidedeck-bench-") as tmp:
        work = Path(tmp)
        c16 = corpus_copy(args.corpus, work / "c16", 1)
        c160 = corpus_copy(args.corpus, work / "c160", 10)
        # builds that remove lock files have guides of their own (the others keep theirs)
        f16 = corpus_copy(args.corpus, work / "f16-guides", 1)
        cold = corpus_copy(args.corpus, work / "cold-guides", 1)
        # the cached builds have guides (and lock files beside them) of their own: a full build
        # into another output folder would otherwise rewrite their locks between two of them
        cached_guides = corpus_copy(args.corpus, work / "k160-guides", 10)
        gd = [py, "-m", "guidedeck", "build", "--no-cache"]
        cached = [py, "-m", "guidedeck", "build"]

        def baseline() -> tuple[float, int]:
            return run(
                [py, str(ROOT / "benchmarks" / "baseline.py"), str(c16), str(work / "b.apkg")]
            )

        def rebuild16() -> tuple[float, int]:
            return run([*gd, str(c16), "--out", str(work / "o16")])

        def first16() -> tuple[float, int]:
            for lock in f16.glob("*.guidedeck.lock"):
                lock.unlink()
            return run([*gd, str(f16), "--out", str(work / "f16")])

        def rebuild160() -> tuple[float, int]:
            return run([*gd, str(c160), "--out", str(work / "o160")])

        mass = work / "mass"
        mass.mkdir()

        def mass_unedited() -> tuple[float, int]:
            (mass / "mass.md").write_text(mass_guide(False), encoding="utf-8")
            run([*gd, str(mass / "mass.md"), "--out", str(work / "om")])  # undo the last edit
            return run([*gd, str(mass / "mass.md"), "--out", str(work / "om")])

        def mass_edited() -> tuple[float, int]:
            (mass / "mass.md").write_text(mass_guide(True), encoding="utf-8")
            return run([*gd, str(mass / "mass.md"), "--out", str(work / "om")])

        def cached16() -> tuple[float, int]:
            return run([*cached, str(c16), "--out", str(work / "k16")])

        def cached160() -> tuple[float, int]:
            return run([*cached, str(cached_guides), "--out", str(work / "k160")])

        def cold16() -> tuple[float, int]:  # a fresh clone's first build
            for lock in cold.glob("*.guidedeck.lock"):
                lock.unlink()
            shutil.rmtree(work / "c-out", ignore_errors=True)
            return run([*cached, str(cold), "--out", str(work / "c-out")])

        def table(rows: int) -> Callable[[], tuple[float, int]]:
            big = work / f"big{rows}"
            big.mkdir()
            lines = "".join(f"| key {n} | value {n} | note {n} |\n" for n in range(rows))
            (big / "table.md").write_text(
                f"# Big\n\n## Many Rows\n\n| Key | Value | Note |\n|---|---|---|\n{lines}",
                encoding="utf-8",
            )

            def first_build() -> tuple[float, int]:  # no lock, no deck, no cache
                (big / "table.guidedeck.lock").unlink(missing_ok=True)
                shutil.rmtree(big / "out", ignore_errors=True)
                return run([*cached, str(big / "table.md"), "--out", str(big / "out")])

            return first_build

        table20k, table10k = table(20_000), table(10_000)

        edits = iter(range(1, 1_000_000))

        def edited160() -> tuple[float, int]:
            edit_one(sorted(cached_guides.glob("*.md"))[0], next(edits))
            return cached160()

        rebuild16()  # write the lock files: the measured builds are rebuilds
        rebuild160()
        cached16()  # fill the caches
        cached160()
        (base, _), (build, mem16), (first, _), (cold, _) = medians(
            args.runs, baseline, rebuild16, first16, cold16
        )
        (b16, m16), (b160, m160) = medians(max(3, args.runs // 2), rebuild16, rebuild160)
        # each edited build follows an unedited one, so every measured edit changes 2,000 cards
        (mass_plain, _), (mass_edit, _) = medians(
            max(3, args.runs // 2), mass_unedited, mass_edited
        )
        (full, _), (noedit, k160), (onedit, _) = medians(
            max(3, args.runs // 2), rebuild160, cached160, edited160
        )
        (_, k16), (_, k160b) = medians(max(3, args.runs // 2), cached16, cached160)
        (table_t, _), (table_half, _) = medians(max(3, args.runs // 2), table20k, table10k)
        latency: list[float] = []
        if serve_latency.available():
            served = corpus_copy(args.corpus, work / "served", 1)
            guide = sorted(served.glob("*.md"))[0]
            latency = serve_latency.measure(served, guide, work / "so", max(7, args.runs * 2))
        script = Path(py).with_name("guidedeck")  # the installed command, same interpreter
        # ~70 ms processes on a shared machine: a median needs many samples to be stable
        (help_t, _), (click_t, _) = medians(
            max(25, args.runs * 5),
            lambda: run([str(script), "--help"]),
            lambda: run([py, "-c", "import click"]),
        )
    ratios = {
        "cold build/baseline": cold / base,
        "build/baseline": build / base,
        "first build/baseline": first / base,
        "help/import click": help_t / click_t,
        "160/16 time": b160 / b16,
        "160/16 memory": m160 / m16,
        "mass edit/rebuild": mass_edit / mass_plain,
        "no-edit rebuild/full": noedit / full,
        "one edited/full": onedit / full,
        "cached 160/16 memory": max(k160, k160b) / k16,
        "20,000-row table (s)": table_t,
        "20,000/10,000 rows time": table_t / table_half,
    }
    if latency:
        ratios["serve save to page (s)"] = statistics.median(latency)
    print(f"cores: {os.cpu_count()}, runs: {args.runs}, python {sys.version.split()[0]}")
    print(f"baseline (16 guides)        {base:7.2f} s")
    mib = 1024
    print(f"cold build, 16 guides       {cold:7.2f} s  (fresh output folder, no lock, no cache)")
    print(f"guidedeck build, 16 guides  {build:7.2f} s  (first build {first:.2f} s), "
          f"peak {mem16 / mib:.0f} MiB")  # fmt: skip
    print(f"guidedeck build, 160 guides {b160:7.2f} s  (16: {b16:.2f} s), "
          f"peak {m160 / mib:.0f} MiB (16: {m16 / mib:.0f} MiB)")  # fmt: skip
    print(f"mass edit (2,000 cards) {mass_edit:7.2f} s  (same guide, no edit: {mass_plain:.2f} s)")
    print(f"160 guides, cached: no edit {noedit:.2f} s, one guide edited {onedit:.2f} s, "
          f"full build {full:.2f} s; peak {max(k160, k160b) / mib:.0f} MiB "
          f"(16: {k16 / mib:.0f} MiB)")  # fmt: skip
    print(f"20,000-row table, first build {table_t:.2f} s (10,000 rows: {table_half:.2f} s)")
    if latency:
        shown, low, high = statistics.median(latency), min(latency), max(latency)
        print(f"serve, save to page shown: median {shown:.2f} s "
              f"(min {low:.2f}, max {high:.2f}, {len(latency)} saves)")  # fmt: skip
    else:
        print("serve, save to page shown: not measured (playwright or chromium missing)")
    print(f"guidedeck --help            {help_t * 1000:7.0f} ms "
          f"(import click {click_t * 1000:.0f} ms)")  # fmt: skip
    failed = False
    for name, value in ratios.items():
        ok = value <= TARGETS[name]
        failed |= not ok
        print(f"{name:24s} {value:6.2f}  target <= {TARGETS[name]:<5}  {'ok' if ok else 'MISSED'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
