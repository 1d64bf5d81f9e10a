"""Command line: parse flags, call one function, format the result. Exit 0 ok, 1 failure, 2 usage."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from compiler.errors import PlatformcError, SpecErrors


def _progress(message: str) -> None:
    # Long work shows progress on a terminal only; CI logs and pipes stay clean.
    if sys.stderr.isatty():
        click.echo(f"platformc: {message}", err=True)


def _fail(message: str, code: int = 1) -> None:
    click.echo(message, err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="platformc")
def main() -> None:
    """platformc compiles an AI-platform spec into validated per-cluster GitOps trees."""


@main.command()
@click.option("--spec", "spec_dir", type=click.Path(path_type=Path), default=Path("platform-spec"), show_default=True)
@click.option("--overlays", "overlays_dir", type=click.Path(path_type=Path), default=Path("overlays"), show_default=True)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("generated"), show_default=True)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing every file that differs.")
@click.option("--cluster", "clusters", multiple=True, help="Compile only this cluster (repeatable).")
def compile(spec_dir: Path, overlays_dir: Path, out_dir: Path, check: bool, clusters: tuple[str, ...]) -> None:
    """Compile platform-spec/ into generated/<cluster>/ trees."""
    from compiler.pipeline import compile_platform

    try:
        result = compile_platform(spec_dir, out_dir, cluster_names=clusters, check=check, progress=_progress)
    except SpecErrors as exc:
        _fail(f"{exc}\nplatformc: {len(exc.errors)} error(s) in the spec; nothing was written")
        return
    except PlatformcError as exc:
        _fail(f"platformc: {exc}; nothing was written")
        return
    if result.drift is not None:
        if not result.drift.clean:
            lines = "\n".join(result.drift.lines())
            _fail(f"{lines}\nplatformc: {out_dir} is not current; run `platformc compile`")
        click.echo(f"{out_dir} is current ({result.files} files, {len(result.clusters)} clusters)")
        return
    click.echo(f"compiled {len(result.clusters)} cluster(s): {result.objects} objects in {result.files} files → {out_dir}")


@main.command()
def schema() -> None:
    """Print the spec's JSON Schema (for yaml-language-server and editors)."""
    from compiler.spec.json_schema import spec_json_schema

    click.echo(json.dumps(spec_json_schema(), indent=2, sort_keys=True))


_SPEC_OPTION = click.option(
    "--spec", "spec_dir", type=click.Path(path_type=Path), default=Path("platform-spec"), show_default=True
)
_OVERLAYS_OPTION = click.option(
    "--overlays", "overlays_dir", type=click.Path(path_type=Path), default=Path("overlays"), show_default=True
)


@main.command()
@click.option("--base", default=None, help="Revision to compare with (default: merge base with main).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True
)
@_SPEC_OPTION
@_OVERLAYS_OPTION
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1000),
    default=60_000,
    show_default=True,
    help="Size cap of the markdown output (GitHub comments hold 65,536 characters).",
)
@click.option("--exit-code", is_flag=True, help="Exit 1 when something changed.")
def diff(
    base: str | None, fmt: str, spec_dir: Path, overlays_dir: Path, max_bytes: int, exit_code: bool
) -> None:
    """Show what a spec change does: impact summary and per-object diff against --base."""
    from compiler.review.gitrev import RevisionSpecErrors
    from compiler.review.render import render_json, render_markdown, render_text
    from compiler.review.run import review

    try:
        result = review(spec_dir, overlays_dir, base)
    except RevisionSpecErrors as exc:
        _fail(f"{exc}\nplatformc: cannot diff: the spec at {exc.rev} is invalid")
        return
    except SpecErrors as exc:
        _fail(f"{exc}\nplatformc: cannot diff: {len(exc.errors)} error(s) in the spec of the working tree")
        return
    except PlatformcError as exc:
        _fail(f"platformc: {exc}")
        return
    if fmt == "json":
        click.echo(render_json(result), nl=False)
    elif fmt == "markdown":
        click.echo(render_markdown(result, max_bytes), nl=False)
    else:
        click.echo(render_text(result, color=sys.stdout.isatty()), nl=False)
    if exit_code and result.changed:
        sys.exit(1)


@main.command()
@click.option("--message", "-m", default=None, help="Commit subject (default: a summary of the change).")
@click.option("--branch", default=None, help="Commit to this rendered branch instead of the checked-out one.")
@click.option("--push", "do_push", is_flag=True, help="Push the branch to --remote (never forces).")
@click.option("--remote", default="origin", show_default=True)
@click.option("--allow-dirty-spec", is_flag=True, help="Publish even if the spec has uncommitted changes.")
@_SPEC_OPTION
@_OVERLAYS_OPTION
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), default=Path("generated"), show_default=True
)
def publish(
    message: str | None,
    branch: str | None,
    do_push: bool,
    remote: str,
    allow_dirty_spec: bool,
    spec_dir: Path,
    overlays_dir: Path,
    out_dir: Path,
) -> None:
    """Compile, validate and commit generated/ (and nothing else) with a Source-Commit trailer."""
    from compiler.publish import publish as run_publish

    try:
        result = run_publish(
            spec_dir,
            overlays_dir,
            out_dir,
            message=message,
            branch=branch,
            push_to=remote if do_push else None,
            allow_dirty_spec=allow_dirty_spec,
            progress=_progress,
        )
    except SpecErrors as exc:
        _fail(f"{exc}\nplatformc: {len(exc.errors)} error(s) in the spec; nothing was committed")
        return
    except PlatformcError as exc:
        _fail(f"platformc: {exc}")
        return
    where = result.ref.removeprefix("refs/heads/")
    for note in result.notes:
        click.echo(note)
    if result.commit:
        click.echo(f"published {result.commit[:12]} on {where}: {result.message.splitlines()[0]}")
    if result.pushed:
        click.echo(f"pushed {where} to {remote}")


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--name", default=None, help="Platform name (default: the folder name as a DNS label).")
@click.option("--repo-url", default="https://github.com/example/ai-platform.git", show_default=True,
              help="Git URL the GitOps engines read (gitops.repoURL).")
def init(directory: Path, name: str | None, repo_url: str) -> None:
    """Create a new platform repository in DIRECTORY (which must be new or empty)."""
    from compiler.init_repo import init_repository

    try:
        result = init_repository(directory, name=name, repo_url=repo_url)
    except PlatformcError as exc:
        _fail(f"platformc: {exc}")
        return
    click.echo(f"created platform repository {result.path} (first commit {result.commit[:12]})")
    click.echo("next: set gitops.repoURL in platform-spec/platform.yaml, push, and open a pull request")


if __name__ == "__main__":
    main()
