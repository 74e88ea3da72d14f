"""`councilwatch match`: trying an alert on a text through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import run_cli
from tests.test_cli_councils import write_config

STORY = (
    "Parents in Keswick say Cumberland Council has cut the school transport route their\n"
    "children rely on. Mr D, whose son travels 14 miles each day, said the taxi contract\n"
    "ended without a word of warning.\n"
)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("COUNCILWATCH_DATABASE_URL", raising=False)
    return write_config(tmp_path)  # an unreachable database: match must not need one


@pytest.fixture
def story(tmp_path: Path) -> Path:
    path = tmp_path / "story.txt"
    path.write_text(STORY, encoding="utf-8")
    return path


def match(
    capsys: pytest.CaptureFixture[str], config: Path, story: Path, *args: str
) -> tuple[int, str, str]:
    result = run_cli(capsys, "--config", str(config), "match", "--file", str(story), *args)
    return result.code, result.out, result.err


def test_alert_on_abolished_council_follows_its_successor(
    config: Path, story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = match(
        capsys, config, story, "--query", '"school transport" OR taxi*', "--council", "Cumbria"
    )
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "MATCH"
    assert lines[1] == f"alert cli matched document {story}"
    assert "councils: cumberland" in lines
    assert 'terms found: "school transport", taxi*' in lines
    snippet = next(line for line in lines if line.startswith("snippet: "))
    assert "[school transport]" in snippet and "[taxi]" in snippet
    assert (
        "alert follows: Cumberland Council, Cumbria County Council, "
        "Westmorland and Furness Council" in lines
    )
    assert lines[-1] == "councils named in the text: Cumberland Council"


def test_no_match_says_why_and_exits_zero(
    config: Path, story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = match(
        capsys, config, story, "--query", "parking", "--council", "Norfolk", "--kind", "decision"
    )
    assert code == 0
    assert out.splitlines() == [
        "NO MATCH",
        "kind: the alert wants decision; the text is news (see --text-kind)",
        "councils: the text names none of the alert's councils",
        "query: parking does not match the text",
        "alert follows: Norfolk County Council",
        "councils named in the text: Cumberland Council",
    ]


def test_kind_filter_against_text_kind(
    config: Path, story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("--query", "taxi", "--kind", "decision")
    assert match(capsys, config, story, *args)[1].startswith("NO MATCH\n")
    assert match(capsys, config, story, *args, "--text-kind", "decision")[1].startswith("MATCH\n")


def test_json_output(config: Path, story: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = match(capsys, config, story, "--query", "contract", "--json")
    result = json.loads(out)
    assert code == 0 and result["matched"] is True
    assert result["alert"] == {"query": "contract", "councils": [], "kinds": []}
    assert result["text_councils"] == [{"id": "cumberland", "name": "Cumberland Council"}]
    assert result["match"]["terms"] == ["contract"]
    assert "[contract]" in result["match"]["highlighted"]
    assert "[" not in result["match"]["snippet"] and "contract" in result["match"]["snippet"]
    assert result["match"]["explanation"].startswith("alert cli matched document ")

    out = match(capsys, config, story, "--query", "pothole", "--json")[1]
    result = json.loads(out)
    assert result["matched"] is False and "match" not in result
    assert result["reasons"] == ["query: pothole does not match the text"]


def test_not_only_query_needs_a_council(
    config: Path, story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # With a council the alert is already narrow, as the subscription form allows.
    code, out, _ = match(capsys, config, story, "--query", "-parking", "--council", "Cumberland")
    assert code == 0 and out.startswith("MATCH\n")
    code, _, err = match(capsys, config, story, "--query", "-parking")
    assert code == 1 and err.startswith("error: expected a term without NOT at position 0")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--query", "taxi AND"), "error: expected a term after AND at position 8\n"),
        (("--query", '"school'), "error: unterminated quote starting at position 0\n"),
        ((), "error: give --query, --council or both: an alert needs one of them\n"),
        (("--query", "taxi", "--kind", "letter"),
         "error: --kind must be one of decision, news, not 'letter'\n"),
    ],
    ids=["dangling-and", "open-quote", "no-alert", "bad-kind"],
)  # fmt: skip
def test_errors_are_one_line(
    config: Path,
    story: Path,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    error: str,
) -> None:
    code, out, err = match(capsys, config, story, *args)
    assert (code, out, err) == (1, "", error)


def test_unknown_council_suggests(
    config: Path, story: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = match(capsys, config, story, "--query", "taxi", "--council", "Cumberlnd")
    assert code == 1 and err.startswith("error: unknown council 'Cumberlnd'; did you mean ")
    assert "'Cumberland Council'" in err and err.count("\n") == 1


def test_missing_file(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = match(capsys, config, tmp_path / "gone.txt", "--query", "taxi")
    assert code == 1
    assert err == f"error: cannot read {tmp_path / 'gone.txt'}: No such file or directory\n"
