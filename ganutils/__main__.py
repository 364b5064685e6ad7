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

    p_course = sub.add_parser("course", help="execute every notebook into runs/<timestamp>/ (runs/latest links to it)")
    p_course.add_argument("--profile")
    p_course.add_argument("--out", help="output folder (default runs/<timestamp>)")
    p_course.add_argument("--only", help="comma-separated notebooks to run instead of all")
    p_course.add_argument("--timeout", type=int)

    sub.add_parser("list", help="list the notebooks and their parameters")

    p_quiz = sub.add_parser("quiz", help="interview quiz over the question bank in the terminal (Enter reveals, y/n scores)")
    p_quiz.add_argument("--topic", help="only this topic (e.g. gan-basics, wgan, vae); default: all topics")
    p_quiz.add_argument("--lang", default="en", help="language of the questions: en or zh (answers are in English)")
    p_quiz.add_argument("-n", type=int, default=10, help="number of questions (default 10)")
    p_quiz.add_argument("--seed", type=int, help="shuffle seed, to repeat a quiz (default: a new random order)")

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
    if args.command == "quiz":
        from .course import quiz

        try:
            quiz.run_terminal(topic=args.topic, lang=args.lang, n=args.n, seed=args.seed)
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
