"""Command line: ``python -m ganutils run|course|list|quiz ...``."""

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

    p_course = sub.add_parser("course", help="execute every notebook into runs/<timestamp>/ (runs/latest links to it)")
    p_course.add_argument("--profile")
    p_course.add_argument("--out", help="output folder (default runs/<timestamp>)")
    p_course.add_argument("--only", help="comma-separated notebooks to run instead of all")
    p_course.add_argument("--timeout", type=int)

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

    args = parser.parse_args(argv)
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

    try:
        if args.command == "list":
            for path in runner.list_notebooks():
                params = ", ".join(runner.notebook_parameters(path))
                print(f"{path.stem:28s} {runner.notebook_title(path)}\n{'':28s} parameters: {params}")
            return 0
        if args.command == "run":
            results = runner.run(args.notebooks, out=args.out, profile=args.profile, params=args.params, timeout=args.timeout)
        else:
            only = [k for k in (args.only or "").split(",") if k.strip()] or None
            results = runner.run_course(out=args.out, profile=args.profile, only=only, timeout=args.timeout)
    except GanutilsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(verdict(results, args.command))
    return 1 if any(r.status != "ok" for r in results) else 0


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
