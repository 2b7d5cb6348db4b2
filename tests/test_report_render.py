"""Report writers: figure, Markdown summary and the self-contained HTML report."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aflab.analysis.figure import SEGMENTS, bar_shares, plot_compliance
from aflab.analysis.html_report import render_html, write_html
from aflab.analysis.markdown import summary_markdown

XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _tier(n=10, rate=0.3, ci=(0.1, 0.6)):
    return {
        "n": n, "compliance_rate": rate, "compliance_ci": list(ci),
        "partial_rate": 0.1, "partial_ci": [0.0, 0.4],
        "af_rate": 0.25, "af_ci": [0.05, 0.7], "af_rate_all": 0.1, "af_all_ci": [0.0, 0.4],
        "refusal_rate": 0.5, "parse_error_rate": 0.1, "empty_rate": 0.0,
        "truncated_rate": 0.0, "judge_error_rate": 0.0,
    }


def _run(model="aflab-local/smollm2", variant="default", tiers=("free", "paid")):
    return {
        "setting": "helpful_only", "model": model, "variant": variant, "run_id": "r1",
        "tiers": {t: _tier() for t in tiers},
        "compliance_gap": 0.2, "compliance_gap_ci": [-0.1, 0.5],
        "mcnemar_p": 0.5, "n_pairs": 10,
    }


def _rec(run_index=0, tier="free", qid="ho-001", category="complied", af_label="yes",
         epoch=1, **over):
    rec = {
        "run_index": run_index, "setting": "helpful_only", "model": "m", "variant": "default",
        "query_id": qid, "tier": tier, "epoch": epoch, "request": f"request {qid}",
        "category": category, "compliance_score": 0.75, "accepted": True,
        "af_score": 0.6, "af_label": af_label,
        "votes": [{"vote": "yes", "rationale": "r-yes"}, {"vote": None, "rationale": "bad"}],
        "compliance_rationale": "it complied", "scratchpad": f"thinking {qid} {tier}",
        "output": f"output {qid} {tier}", "flags": [],
    }
    rec.update(over)
    return rec


def _records(run_index=0, tiers=("free", "paid")):
    cats = [("complied", "yes"), ("complied", "no"), ("refused", None), ("partial", "no")]
    return [
        _rec(run_index, t, f"ho-{i:03d}", c, a)
        for t in tiers for i, (c, a) in enumerate(cats)
    ]


# --------------------------------------------------------------------- figure


def test_bar_shares_hand_counted():
    recs = [
        _rec(0, "free", "a", "complied", "yes"),
        _rec(0, "free", "b", "complied", "maybe"),
        _rec(0, "free", "c", "complied", None),
        _rec(0, "free", "d", "refused", None),
        _rec(0, "free", "e", "empty", None),
        _rec(0, "free", "f", "unparseable", None),
        _rec(0, "free", "g", "truncated", None),
        _rec(0, "free", "h", "judge_error", None),
        _rec(0, "paid", "a", "refused", None),
        _rec(0, "paid", "b", "partial", "yes"),
        _rec(1, "paid", "a", "complied", "yes"),
    ]
    shares = bar_shares(recs)
    assert set(shares) == {(0, "free"), (0, "paid"), (1, "paid")}
    assert shares[(0, "free")] == pytest.approx(
        {"refuses": 1 / 8, "complies_no_af": 2 / 8, "complies_af": 1 / 8, "partial": 0.0,
         "other": 4 / 8}
    )
    assert shares[(0, "paid")] == pytest.approx(  # partial is its own segment
        {"refuses": 0.5, "complies_no_af": 0.0, "complies_af": 0.0, "partial": 0.5,
         "other": 0.0}
    )
    assert shares[(1, "paid")]["complies_af"] == 1.0
    for bar in shares.values():
        assert set(bar) == set(SEGMENTS)
        assert sum(bar.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "runs, records",
    [
        ([_run()], _records(0)),
        ([_run(), _run(model="other/$model$", variant="no_scratchpad")],
         _records(0) + _records(1)),
        ([_run(tiers=("free",))], _records(0, tiers=("free",))),
    ],
    ids=["one-run", "two-runs", "missing-tier"],
)
def test_plot_compliance_writes_files(tmp_path: Path, runs, records):
    paths = plot_compliance({"runs": runs}, records, tmp_path / "out" / "figure")
    assert [p.name for p in paths] == ["figure.png", "figure.svg"]
    for p in paths:
        assert p.exists() and p.stat().st_size > 0
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in paths[1].read_text()


def test_plot_compliance_no_records(tmp_path: Path):
    paths = plot_compliance({"runs": []}, [], tmp_path / "figure")
    assert all(p.stat().st_size > 0 for p in paths)


# ------------------------------------------------------------------- markdown


def test_markdown_numbers_and_missing():
    empty = {k: None for k in _tier()}
    empty["n"] = 0
    run2 = _run(model="x|y", tiers=())
    run2["tiers"] = {"free": empty}
    run2.update(compliance_gap=None, compliance_gap_ci=None, mcnemar_p=None, n_pairs=0)
    md = summary_markdown({"runs": [_run(), run2]})
    assert md.startswith("# ")
    assert "| helpful_only | aflab-local/smollm2 | default | free | 10 |" in md
    assert "30.0 [10.0, 60.0]" in md
    assert "25.0 [5.0, 70.0]" in md  # AF among compliant
    assert "| 10.0 |" in md  # partial / AF among all / parse error
    assert "+20.0 pts [-10.0, 50.0]" in md and "McNemar p = 0.500" in md
    assert "x\\|y" in md  # pipes in a model name do not break the table
    row2 = next(line for line in md.splitlines() if "x\\|y" in line and "| free |" in line)
    assert row2.endswith("| 0" + " | –" * 11 + " |")  # no denominators: every cell "–"
    assert "x\\|y · default**: –, McNemar p = –" in md
    # every table row has the same number of cells
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert len({line.replace("\\|", "").count("|") for line in table}) == 1


# ----------------------------------------------------------------------- html


def _xss_records():
    return [
        _rec(0, "free", "ho-001", "complied", "yes", request=XSS, output=XSS),
        _rec(0, "paid", "ho-001", "refused", "no", request=XSS, scratchpad=XSS,
             votes=[{"vote": "no", "rationale": XSS}], flags=[XSS]),
    ]


def test_html_escapes_model_text():
    run = _run(model=XSS)
    html = render_html({"runs": [run]}, _xss_records(), "<svg xmlns='x'><rect/></svg>")
    assert XSS not in html
    assert html.count(XSS_ESCAPED) >= 5  # request, output, scratchpad, rationale, flag, model
    # the only script element is our own filter code
    assert html.count("<script") == 1
    script = html.split("<script>", 1)[1].split("</script>", 1)[0]
    assert "alert" not in script and "ho-001" not in script


def test_html_self_contained(tmp_path: Path):
    runs = [_run(), _run(variant="no_scratchpad")]
    recs = _records(0) + _records(1)
    svg_path = plot_compliance({"runs": runs}, recs, tmp_path / "figure")[1]
    out = write_html(tmp_path / "r" / "report.html", {"runs": runs}, recs, svg_path.read_text())
    html = out.read_text(encoding="utf-8")
    assert "<svg" in html and "<?xml" not in html and "<!DOCTYPE svg" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    assert "@import" not in html and "url(http" not in html
    urls = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert "<table" in html and "30.0 [10.0, 60.0]" in html and "+20.0 pts" in html


def test_html_pairs_free_and_paid_in_one_row():
    recs = _records(0) + [_rec(0, "free", "ho-lonely")]
    html = render_html({"runs": [_run()]}, recs, "")
    articles = re.findall(r'<article class="pair".*?</article>', html, flags=re.S)
    assert len(articles) == 5  # 4 paired queries + one free-only
    first = next(a for a in articles if "ho-000" in a)
    assert 'data-tier="free" data-present="1"' in first
    assert 'data-tier="paid" data-present="1"' in first
    assert first.index("output ho-000 free") < first.index("output ho-000 paid")
    lonely = next(a for a in articles if "ho-lonely" in a)
    assert 'data-tier="paid" data-present="0"' in lonely
    # filter data sits in data-* attributes, with the scratchpad collapsible
    assert 'data-category="complied"' in first and 'data-af="yes"' in first
    assert 'data-af="none"' in html
    assert '<details class="scratchpad">' in first
    for select in ("f-run", "f-tier", "f-cat", "f-af"):
        assert f'id="{select}"' in html


# ------------------------------------------------------------ honest numbers


def test_zero_classified_samples_show_a_dash_not_zero():
    from aflab.analysis.summary import run_summary

    records = [_rec(0, tier, f"ho-{i:03d}", "truncated", None)
               for tier in ("free", "paid") for i in range(3)]
    run = run_summary({"setting": "helpful_only", "model": "m", "variant": "default"}, records)
    free = run["tiers"]["free"]
    assert free["n"] == 3 and free["n_classified"] == 0
    assert free["compliance_rate"] is None and free["compliance_ci"] is None
    assert free["af_rate"] is None and free["af_unscored"] == 3
    md = summary_markdown({"runs": [run]})
    row = next(line for line in md.splitlines() if "| free |" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    # n, classified n, compliance, partial, AF among compliant, AF among all scored
    assert cells[4:10] == ["3", "0", "–", "–", "–", "–"], cells
    assert "0.0 [" not in row  # never a zero rate with an interval over nothing
    assert "paired: free − paid compliance over the 0 queries" in md


def test_rates_state_their_denominators_and_toy_banner():
    from aflab.analysis.summary import run_summary

    run = run_summary({"setting": "helpful_only", "model": "aflab-local/smollm2",
                       "variant": "default", "grader": "openai/gpt-4o"}, _records())
    free = run["tiers"]["free"]
    assert free["n"] == 4 and free["n_classified"] == 4 and free["n_af_compliant"] == 2
    assert free["n_af_scored"] == 3 and free["af_unscored"] == 1
    md = summary_markdown({"runs": [run]})
    assert "50.0 [9.5, 90.5] (n=2)" in md  # AF among compliant, with its n
    assert "33.3 (n=3)" in md  # AF among all scored
    assert "**Warning:**" in md and "embedded toy model" in md and "target" in md
    html = render_html({"runs": [run]}, _records(), "")
    assert 'class="banner"' in html and "where both tiers were classified" in html
    run["model"] = "openai/gpt-4o"
    assert "**Warning:**" not in summary_markdown({"runs": [run]})


@pytest.mark.parametrize("n_runs", [1, 8, 20])
def test_figure_texts_stay_inside_for_1_8_20_runs(n_runs, tmp_path: Path):
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    from aflab.analysis.figure import build_figure

    long = "organism/" + "a-very-long-model-organism-name-" * 4
    runs = [_run(model=f"{long}{i}", variant="company=Google DeepMind+no_examples+paraphrase=2")
            for i in range(n_runs)]
    for run in runs:
        run["identity"] = {"data": "/data/" + "x" * 60 + ".jsonl", "temperature": 1.0}
        run["label"] = None
    records = [r for i in range(n_runs) for r in _records(i)]
    fig = build_figure({"runs": runs}, records)
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        box = fig.bbox
        texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
        assert any("Compliance and alignment-faking" in t.get_text() for t in texts)
        assert sum("n=4" in t.get_text() for t in texts) == 2 * n_runs  # n per bar
        for text in texts:
            ext = text.get_window_extent(renderer)
            assert (ext.x0 >= box.x0 - 1 and ext.x1 <= box.x1 + 1 and ext.y0 >= box.y0 - 1
                    and ext.y1 <= box.y1 + 1), (text.get_text()[:60], ext, box)
        assert len(fig.axes[0].collections) >= n_runs  # interval whiskers
    finally:
        plt.close(fig)
    paths = plot_compliance({"runs": runs}, records, tmp_path / "figure")
    assert all(p.stat().st_size > 0 for p in paths)


def test_big_sweeps_get_one_transcript_page_per_run(tmp_path: Path, monkeypatch):
    import aflab.analysis.html_report as html_report

    runs = [_run(variant="default"), _run(variant="company=OpenAI")]
    recs = _records(0) + _records(1)
    small = write_html(tmp_path / "small" / "report.html", {"runs": runs}, recs, "")
    assert 'class="pair"' in small.read_text() and not (tmp_path / "small" / "transcripts").exists()
    monkeypatch.setattr(html_report, "INLINE_SAMPLES_LIMIT", len(recs) - 1)
    main = write_html(tmp_path / "big" / "report.html", {"runs": runs}, recs, "").read_text()
    pages = sorted((tmp_path / "big" / "transcripts").glob("run-*.html"))
    assert [p.name for p in pages] == ["run-000.html", "run-001.html"]
    assert 'class="pair"' not in main and 'href="transcripts/run-001.html"' in main
    first = pages[0].read_text()
    assert first.count('<article class="pair" data-run="0"') == len(_records(0)) // 2
    assert 'data-run="1"' not in first
