"""Command line: ``python -m ganutils run|course|list|quiz|exercises|student ...``."""

from __future__ import annotations

import argparse
import sys

from .config import GanutilsError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ganutils", description="Run the GAN course's notebooks.")
    sub = parser.add_subparsers(dest="command", required=True)

    p_run = sub.add_parser("run", help="execute one or more notebooks with papermill parameters")
    p_run.add_argument("notebooks", nargs="+", help="number (02), name (02_first_gan_mnist) or part of a name")
    p_run.add_argument("--profile", help="smoke | quick | full (default: $GANUTILS_PROFILE, else full with CUDA, quick without)")
    p_run.add_argument("--out", required=True, help="output folder for executed notebooks, metrics.json and summary.md")
    p_run.add_argument("-p", dest="params", action="append", default=[], metavar="NAME=VALUE[,VALUE...]",
                       help="a notebook parameter; several comma-separated values run a sweep")
    p_run.add_argument("--timeout", type=int, help="seconds per notebook before it is stopped")
    _add_executor_options(p_run)

    p_course = sub.add_parser("course", help="execute every notebook into runs/<timestamp>/ (runs/latest links to it)")
    p_course.add_argument("--profile")
    p_course.add_argument("--out", help="output folder (default runs/<timestamp>)")
    p_course.add_argument("--only", help="comma-separated notebooks to run instead of all")
    p_course.add_argument("--timeout", type=int, help="seconds per notebook before it is stopped")
    _add_executor_options(p_course)

    sub.add_parser("list", help="list the notebooks and their parameters")

    p_quiz = sub.add_parser("quiz", help="interview quiz over the question bank, with spaced repetition "
                                         "(Enter reveals, 1-4 grades)")
    p_quiz.add_argument("--topic", help="only this topic (e.g. gan-basics, wgan, vae); default: all topics")
    p_quiz.add_argument("--difficulty", help="only these difficulties: a level 1-5 or a range such as 2-4")
    p_quiz.add_argument("--lang", default="en", help="language of the questions and answers: en or zh")
    p_quiz.add_argument("-n", type=int, default=10, help="number of questions (default 10)")
    p_quiz.add_argument("--seed", type=int, help="shuffle seed, to repeat a quiz (default: a new random order)")
    mode = p_quiz.add_mutually_exclusive_group()
    mode.add_argument("--due", action="store_true", help="the questions due for review, then ones never graded")
    mode.add_argument("--missed", action="store_true", help="the questions graded 'again' last time")
    p_quiz.add_argument("--progress", metavar="FILE",
                        help="the progress file (default: $GANUTILS_QUIZ_PROGRESS, else your data folder)")
    p_quiz.add_argument("--no-progress", action="store_true", help="neither read nor save progress")
    p_quiz.add_argument("--today", metavar="YYYY-MM-DD", help="the date the schedule uses (default: today)")
    p_quiz.add_argument("--export-anki", metavar="FILE.apkg",
                        help="write the selected questions (--topic, --difficulty) as an Anki deck instead of quizzing")

    p_book = sub.add_parser("book", help="render a run (default runs/latest) as an offline static site: <run>/book/index.html")
    p_book.add_argument("--run", help="the run folder (default: runs/latest)")

    p_ref = sub.add_parser("reference", help="make reference/<profile>-<device>/ from a complete course run (never edit it by hand)")
    p_ref.add_argument("--profile", help="smoke | quick | full: run the whole course in this profile first")
    p_ref.add_argument("--seeds", help="comma-separated seeds: one course run per seed (e.g. 0,1,2)")
    p_ref.add_argument("--from", dest="from_run", help="take this finished, complete run folder instead of running the course")
    p_ref.add_argument("--timeout", type=int, help="seconds per notebook before it is stopped")

    p_quotes = sub.add_parser("quotes", help="measured numbers quoted by key: list them, or refresh the pre-rendered ones")
    p_quotes.add_argument("--refresh", action="store_true",
                          help="rewrite the values of VALUE<!--{{NN_name:key}}--> quotes in README.md and the notebooks")

    p_ex = sub.add_parser("exercises", help="list the notebooks' exercises and the classic bugs their checks recognise")
    p_ex.add_argument("--json", action="store_true", help="a JSON list of {id, notebook, kind, title, known_bugs}")
    p_ex.add_argument("--notebook", help="only this notebook's exercises (e.g. 04 or 04_wgan_gp)")

    p_student = sub.add_parser("student", help="write the student edition (the notebooks without solutions) to OUT_DIR")
    p_student.add_argument("out_dir", help="a new or empty folder")

    args = parser.parse_args(argv)
    if args.command in ("exercises", "student"):
        from .course.exercises import cli

        try:
            return cli.list_exercises(args.json, args.notebook) if args.command == "exercises" else cli.student(args.out_dir)
        except GanutilsError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    if args.command in ("book", "reference", "quotes"):
        try:
            return _book_and_reference(args, argv)
        except GanutilsError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    if args.command == "quiz":
        from .course import quiz

        try:
            if args.export_anki:
                from .course import anki

                entries = quiz.select(args.topic, None, 0, difficulty=args.difficulty)
                path = anki.export_anki(args.export_anki, entries)
                print(f"wrote {len(entries)} note(s) to {path} (in Anki: File > Import)")
                return 0
            mode = "due" if args.due else "missed" if args.missed else "all"
            quiz.run_terminal(topic=args.topic, lang=args.lang, n=args.n, seed=args.seed, difficulty=args.difficulty,
                              mode=mode, progress_path=args.progress, keep_progress=not args.no_progress,
                              today=args.today)
        except GanutilsError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        return 0
    from .course import runner

    if args.command == "list":
        return _list(runner)
    how = dict(timeout=args.timeout, jobs=args.jobs, jobs_per_gpu=args.jobs_per_gpu, dask=args.dask)
    try:
        if args.command == "run":
            results = runner.run(args.notebooks, out=args.out, profile=args.profile, params=args.params, **how)
        else:
            only = None if args.only is None else [k for k in args.only.split(",") if k.strip()]
            results = runner.run_course(out=args.out, profile=args.profile, only=only, **how)
    except GanutilsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except runner.RunInterrupted as stop:  # Ctrl-C / SIGTERM: everything it started is stopped; say how to resume
        print(f"{args.command}: {stop}", file=sys.stderr, flush=True)
        return stop.code
    print(verdict(results, args.command))
    return 1 if any(r.status != "ok" for r in results) else 0


def _add_executor_options(parser) -> None:
    parser.add_argument("--jobs", type=int, default=1,
                        help="notebook runs at once on this machine (default 1); each kernel gets cores // jobs threads")
    parser.add_argument("--jobs-per-gpu", type=int, default=1,
                        help="on a machine with GPUs, how many jobs may share one GPU (default 1; jobs go round-robin)")
    parser.add_argument("--dask", metavar="ADDRESS",
                        help="run on a Dask cluster: its scheduler's address (tcp://host:8786) or scheduler file "
                             "(needs the [dask] extra)")


def _list(runner) -> int:
    """Every notebook and its parameters; a notebook that cannot be read is one line on stderr (exit 2)."""
    broken = 0
    try:
        notebooks = runner.list_notebooks()
    except GanutilsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in notebooks:
        try:
            params = ", ".join(runner.notebook_parameters(path))
            print(f"{path.stem:28s} {runner.notebook_title(path)}\n{'':28s} parameters: {params}")
        except GanutilsError as err:
            print(f"error: {err}", file=sys.stderr)
            broken += 1
    return 2 if broken else 0


def _book_and_reference(args, argv) -> int:
    """``book``, ``reference`` and ``quotes``: what a run becomes after it ran."""
    if args.command == "book":
        from .course import book

        book.build(args.run)
        return 0
    if args.command == "reference":
        from .course import reference

        seeds = None
        if args.seeds:
            try:
                seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
            except ValueError:
                raise GanutilsError(f"--seeds {args.seeds!r}: give comma-separated integers, e.g. --seeds 0,1,2") from None
        reference.make(args.profile, seeds, args.from_run, args.timeout,
                       argv=list(argv) if argv is not None else sys.argv[1:])
        return 0
    from .course import quotes, runner

    files = quotes.quoted_files(runner.REPO_DIR) if runner.REPO_DIR is not None else []
    if args.refresh:
        changed = [f for f in files if quotes.refresh_file(f)]
        print(f"refreshed {len(changed)} file(s)" + (": " + ", ".join(f.name for f in changed) if changed else ""))
        return 0
    sources = quotes.reference_sources()
    print(f"reference: {sources[0].provenance if sources else 'none committed (values show as ?)'}")
    for f in files:
        for shown, q in quotes.prerendered(f.read_text(encoding="utf-8")):
            print(f"{f.name}: {q.text} shows {shown}, reference {quotes.shown_value(q, sources)}")
    return 0


def verdict(results, command: str) -> str:
    """One line: every run ok, or which failed and where their logs are."""
    failed = [r for r in results if r.status != "ok"]
    what = "notebook" if command == "course" else "run"
    if not failed:
        return f"{command}: all {len(results)} {what}(s) ok"
    logs = "; ".join(f"{r.name} {r.status} (log: {r.log})" for r in failed)
    return f"{command}: {len(failed)} of {len(results)} {what}(s) FAILED: {logs}"


if __name__ == "__main__":
    sys.exit(main())
