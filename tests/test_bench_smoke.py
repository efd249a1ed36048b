"""The benchmarks' code works: each runs in --quick mode and produces its figures.

Only that they ran and what they counted is asserted — never a timing or a memory figure against a
target (those are read by people from `make bench`). Each benchmark starts its own Dovecot or
subprocesses and writes its JSON into tmp_path, so these are independent and parallel-safe.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from bench import ingest_backlog, ingest_latency, run, word_convert
from tests import corpus as real

pytestmark = [pytest.mark.slow, pytest.mark.picks_databases]  # SQLite and PostgreSQL named here


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def _saved(results: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((results / f"{name}.json").read_text(encoding="utf-8"))
    assert data["name"] == name and data["quick"] is True
    return data


def test_backlog_ingests_every_message_and_reports_both_legs(tmp_path: Path) -> None:
    result = ingest_backlog.run(quick=True, results_dir=tmp_path)

    n = result["n"]
    assert result["toasoan"]["drafts"] == n and result["toasoan"]["inbound"] == {"accepted": n}
    assert result["floor"]["messages"] == n and result["floor"]["photos"] == n
    assert result["left_in_inbox"] == 0  # every submission was moved to the processed folder
    for key in ("messages_per_second", "floor_messages_per_second", "ratio"):
        assert _positive(result[key]), key
    assert _saved(tmp_path, "ingest_backlog")["toasoan"]["drafts"] == n


def test_latency_times_every_delivery_against_the_idle_baseline(tmp_path: Path) -> None:
    result = ingest_latency.run(quick=True, results_dir=tmp_path)

    assert len(result["samples"]) == result["n"]
    for sample in result["samples"]:
        assert _positive(sample["draft"]) and _positive(sample["idle"])
    for key in ("draft_median", "draft_p90", "idle_median", "ratio"):
        assert _positive(result[key]), key
    assert len(_saved(tmp_path, "ingest_latency")["samples"]) == result["n"]


def test_memory_through_the_runner_measures_each_case_in_its_own_process(tmp_path: Path) -> None:
    # Through bench/run.py (what `make bench` calls): its exit status says every case measured.
    assert run.main(["--quick", "--only", "memory", "--results", str(tmp_path)]) == 0

    cases = _saved(tmp_path, "ingest_memory")["cases"]
    assert set(cases) == {"tiny", "attachment_25mb", "zip_bomb_1gb", "xml_within_limits"}
    assert cases["tiny"]["drafts"] == 1 and cases["attachment_25mb"]["drafts"] == 1
    assert "quarantined/too_large" in cases["zip_bomb_1gb"]["inbound"]
    for name, case in cases.items():
        assert _positive(case["main_peak_mb"]) and _positive(case["max_process_mb"]), name
        assert case["samples"] > 0, name
    assert cases["attachment_25mb"]["workers_seen"] >= 1  # the conversion worker was measured too


def test_run_rejects_an_unknown_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run.main(["--only", "speed"])
    assert exit_info.value.code == 2
    assert "unknown benchmark" in capsys.readouterr().err


def test_word_conversion_runs_every_part_and_checks_what_it_converted(tmp_path: Path) -> None:
    # Through bench/run.py as `make bench` calls it: exit 0 means every conversion it timed succeeded
    # (titles found, photos rendered, every .doc of the batch converted).
    real.path(word_convert.REAL_NEWS)  # its real PHPWord file is outside the repository: skip without it
    assert run.main(["--quick", "--only", "word", "--results", str(tmp_path)]) == 0

    result = _saved(tmp_path, "word_convert")
    files = result["one_page"]["files"]
    assert set(files) == {"python_docx", "phpword_real", "libreoffice_saved"}
    for name, measured in files.items():
        for leg in ("ours", "mammoth", "python_docx_open", "renditions"):
            assert _positive(measured[leg]["median_ms"]), (name, leg)
        assert _positive(measured["ratio"]), name
        assert measured["fidelity"]["equal"], (name, measured["fidelity"])  # same structure as mammoth
    assert files["phpword_real"]["fidelity"]["ours"]["images"] == 3  # three pictures, two distinct parts
    assert files["python_docx"]["styles_xml_kb"] > 10 * files["libreoffice_saved"]["styles_xml_kb"]

    article = result["article"]
    assert article["images"] == 10 and 3_500 <= article["syllables"] <= 4_500
    assert article["fidelity"]["equal"], article["fidelity"]
    for leg in ("convert_document", "conversion_only", "renditions_only", "rendition_phone_no_draft"):
        assert _positive(article[leg]["median_ms"]), leg

    lo = result["libreoffice"]
    assert lo["one_at_a_time"]["soffice_calls"] == lo["one_at_a_time"]["runs"]  # one soffice call per file
    for sizes in lo["batch_threads"]["soffice_calls_per_round"]:
        assert sum(sizes) == lo["files"]  # every file of the batch went through LibreOffice once
    for key in ("ratio", "raw_ratio"):
        assert _positive(lo[key]), key

    memory = result["memory"]
    assert memory["photos"]["renditions"] == memory["photos"]["images"] > 1
    assert _positive(memory["one_page"]["worker_peak_mb"]) and _positive(memory["photos"]["worker_peak_mb"])
    assert set(result["met"]) == {"one_page", "article", "libreoffice", "memory"}


def test_review_pages_load_every_page_and_time_decisions_against_the_bare_handler(tmp_path: Path) -> None:
    # Through bench/run.py: a real server process with the product's pages and the bare JSON routes,
    # loaded by the benchmark's Python client (no wrk needed in --quick mode), on SQLite then on a
    # throwaway PostgreSQL. Exit 0 means every request got a 200 page that was checked, and every
    # decision was committed, on both.
    assert run.main(["--quick", "--only", "review", "--results", str(tmp_path)]) == 0

    on_pg = _saved(tmp_path, "review_pages_postgresql")
    assert on_pg["backend"] == "postgresql" and on_pg["database"]["drafts"] == on_pg["scale"]["drafts"] > 0
    assert set(on_pg["pages"]) == {"queue_default", "queue_tab", "queue_search", "queue_page50", "draft_typical",
                                   "draft_busy"}  # fmt: skip
    assert on_pg["decisions"]["http"]["n"] == on_pg["scale"]["decisions"]
    assert {row["backend"] for row in on_pg["headline"]} == {"postgresql"} and len(on_pg["headline"]) == 8
    result = _saved(tmp_path, "review_pages")
    assert result["database"]["drafts"] == result["scale"]["drafts"] > 0
    assert result["database"]["events"] == result["scale"]["events"]
    assert result["database"]["busy_events"] >= 50  # the draft page with many events
    pages = result["pages"]
    assert set(pages) == {"queue_default", "queue_tab", "queue_search", "queue_page50", "draft_typical", "draft_busy"}
    for name, page in pages.items():
        for leg in ("product", "baseline"):
            assert page[leg]["requests"] > 0 and page[leg]["errors"] == 0, (name, leg)
            assert _positive(page[leg]["p50"]) and _positive(page[leg]["p95"]), (name, leg)
        assert _positive(page["ratio_p95"]), name
    decisions = result["decisions"]
    assert decisions["service"]["n"] == decisions["http"]["n"] == result["scale"]["decisions"]
    assert _positive(decisions["service"]["p95"]) and _positive(decisions["http"]["p95"])


def test_wordpress_publish_times_every_article_and_counts_its_requests(tmp_path: Path) -> None:
    # Through bench/run.py: its own WordPress (MariaDB + php -S); exit 0 means every article was
    # created once, updated in place, its photos uploaded once, and the last page shows its title.
    assert run.main(["--quick", "--only", "wordpress", "--results", str(tmp_path)]) == 0

    result = _saved(tmp_path, "wordpress_publish")
    assert _positive(result["wordpress_start_seconds"]) and _positive(result["ratio"])
    for leg in ("create", "update"):
        figures = result[leg]
        assert figures["articles"] == len(figures["samples"]) == result["n"] > 0, leg
        assert figures["requests_per_article"] >= (2 + result["photos_per_article"] if leg == "create" else 2), leg
        for sample in figures["samples"]:
            assert _positive(sample["total"]) and _positive(sample["http"]), leg
            assert sample["total"] >= sample["http"], leg


def test_site_build_rebuilds_and_publishes_against_hugo_when_installed(tmp_path: Path) -> None:
    # Through bench/run.py: the quick run builds a small site (and Hugo's, when the `bench` extra is
    # installed), then publishes articles into it; only what it built and counted is asserted.
    assert run.main(["--quick", "--only", "site", "--results", str(tmp_path)]) == 0

    result = _saved(tmp_path, "site_build")
    assert result["rebuild"]["articles"] == result["n"] > 0
    assert result["rebuild"]["pages"] > result["n"]  # the articles, their section pages, home, search
    if result["hugo"] is not None:
        assert result["hugo"]["pages"] > result["n"] and _positive(result["ratio"])
    assert result["publish"] and all(p["samples"] > 0 and _positive(p["median_ms"]) for p in result["publish"].values())


def test_libreoffice_confinement_times_both_modes(tmp_path: Path) -> None:
    # Through bench/run.py: the same .doc converted confined (bwrap) and not, taking turns.
    assert run.main(["--quick", "--only", "confinement", "--results", str(tmp_path)]) == 0

    result = _saved(tmp_path, "libreoffice_confinement")
    for mode in ("required", "off"):
        assert result["modes"][mode]["runs"] == result["runs"] > 0, mode
        assert _positive(result["modes"][mode]["median_s"]), mode
    (row,) = result["headline"]
    assert row["baseline_value"] == result["modes"]["off"]["median_s"] and _positive(row["ratio"])


# The reports benchmark on both databases (PostgreSQL: its own throwaway server) and one that has no
# database, run once through bench/run.py as `make bench` calls it; three tests read what it wrote
# (one xdist group: one worker, one run).
SUMMARY = pytest.mark.xdist_group(name="bench_summary")


@pytest.fixture(scope="module")
def summary_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    results = tmp_path_factory.mktemp("bench-summary")
    argv = ["--quick", "--only", "reports,diagnostics", "--results", str(results), "--markdown",
            str(results / "summary.md")]  # fmt: skip
    assert run.main(argv) == 0
    return results, argv


@SUMMARY
def test_reports_times_the_month_and_the_dashboard_against_the_sql_aggregate(
    summary_run: tuple[Path, list[str]],
) -> None:
    results, _argv = summary_run
    for name in ("reports", "reports_postgresql"):
        result = _saved(results, name)
        assert result["items"] > 0 and result["units"] > 0, name
        assert result["lines"] > 0, name  # the month had royalty lines, written into the documents
        # History as an office has it: every period from 07/2024 (the first base-salary row) to 10/2026 closed.
        assert result["closed_periods"] == 27, name
        for key in ("month_median_s", "load_month_median_s", "aggregate_median_ms", "page_median_ms", "page_p95_ms"):
            assert _positive(result[key]), (name, key)
        assert _positive(result["month_ratio"]) and _positive(result["page_ratio"]), name


@SUMMARY
def test_diagnostics_reads_every_case_bounded_and_against_mail_parser_alone(
    summary_run: tuple[Path, list[str]],
) -> None:
    result = _saved(summary_run[0], "diagnostics")
    scopes = {name: case["scope"] for name, case in result["cases"].items()}
    assert scopes["submission + 4 MB photo (read whole)"] == "message"
    assert scopes["submission + 25 MB photo (header block)"] == "headers"
    assert scopes["thousands of parts"] == "headers"
    for case in result["cases"].values():
        assert _positive(case["diagnose_s"]) and _positive(case["mail_parser_alone_s"])


@SUMMARY
def test_run_summarises_every_headline_with_postgresql_beside_sqlite(summary_run: tuple[Path, list[str]]) -> None:
    # The one table, printed and written as Markdown, and rebuilt from the saved JSON by --table-only.
    results, argv = summary_run
    markdown = results / "summary.md"
    on_pg = _saved(results, "reports_postgresql")
    on_sqlite = _saved(results, "reports")
    assert (on_pg["backend"], on_sqlite["backend"]) == ("postgresql", "sqlite")
    assert on_pg["lines"] == on_sqlite["lines"] > 0  # the same month priced the same on both
    assert on_pg["closed_periods"] == on_sqlite["closed_periods"] == 27
    assert {row["backend"] for row in on_pg["headline"]} == {"postgresql"}
    assert [row["figure"] for row in on_pg["headline"]] == [row["figure"] for row in on_sqlite["headline"]]

    table = markdown.read_text(encoding="utf-8")
    header, _rule, *lines = table.split("\n\n")[0].splitlines()
    assert header == "| figure | goal | SQLite | PostgreSQL | baseline | ratio | verdict |"
    figures = {line.split(" | ")[0].removeprefix("| "): line.split(" | ") for line in lines}
    assert len(figures) == 3  # two of reports (one line for both databases), one of diagnostics
    month = figures[on_sqlite["headline"][0]["figure"]]
    assert month[2] != "—" and month[3] != "—"  # measured on SQLite and on PostgreSQL
    slowest = figures[_saved(results, "diagnostics")["headline"][0]["figure"]]
    assert slowest[2] != "—" and slowest[3] == "—"  # no database in it
    assert "quick mode" in table

    markdown.unlink()
    assert run.main([*argv, "--table-only"]) == 0
    assert markdown.read_text(encoding="utf-8").split("\n\n")[0] == table.split("\n\n")[0]
