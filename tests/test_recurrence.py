import itertools
import math

import numpy as np
import polars as pl
import pytest

from toolkit.recurrence import ESTIMATORS, RESULT_EXTRA, recurrence
from toolkit.schema import RESULT, TAGS, TURNS
from toolkit.simulate import simulate, simulated_transcripts
from toolkit.stats_models import cond_poisson, score_residuals, stratified_permutation_p
from toolkit.stats_panel import build_panel


def frames(convs):
    """Hand-built TURNS/TAGS.

    ``convs``: list of dicts with ``slips`` (per assistant turn: dict category -> count),
    optional ``words`` (per assistant turn), ``corrections`` (assistant index -> list of
    categories corrected in the next user turn) and ``model`` (per assistant turn).
    """
    t_rows, g_rows = [], []
    for ci, c in enumerate(convs):
        cid = c.get("id", f"conv{ci}")
        turn = 0
        for ai, slips in enumerate(c["slips"]):
            corr = c.get("corrections", {}).get(ai - 1, []) if ai else []
            text = "next please"
            for k in corr:
                start = len(text) + 1
                phrase = f"stop the {k}"
                text += " " + phrase
                g_rows.append((cid, ci, turn, "user", "correction", "c", k, start, start + len(phrase), phrase))
            t_rows.append((cid, ci, turn, "user", text, None))
            turn += 1
            text = ""
            for k, n in slips.items():
                for _ in range(n):
                    start = len(text)
                    text += "perhaps "
                    g_rows.append((cid, ci, turn, "assistant", k, k, None, start, start + 7, "perhaps"))
            n_words = c.get("words", [10] * len(c["slips"]))[ai]
            text += "w " * max(n_words - sum(slips.values()), 0)
            t_rows.append((cid, ci, turn, "assistant", text.strip(), c.get("model", [None] * len(c["slips"]))[ai]))
            turn += 1
    turns = pl.DataFrame(
        t_rows,
        schema=["conversation_id", "conversation_index", "turn", "role", "text", "model"],
        orient="row",
    ).with_columns(
        timestamp=pl.lit(None, pl.Datetime("us", "UTC")), source=pl.lit("hand"), format=pl.lit("hand")
    )
    tags = pl.DataFrame(
        g_rows,
        schema=["conversation_id", "conversation_index", "turn", "role", "category", "subtype",
                "target", "start", "end", "match"],
        orient="row",
    )
    return turns, tags


def test_hand_built_frames_are_valid():
    turns, tags = frames([{"slips": [{"hedge": 2}, {}], "corrections": {0: ["hedge"]}}])
    j = tags.join(turns.select("conversation_id", "turn", "text"), on=["conversation_id", "turn"])
    assert (j.select(pl.col("text").str.slice(pl.col("start"), pl.col("end") - pl.col("start"))).to_series() == j["match"]).all()


def test_naive_pre_post_exact_on_hand_built():
    slips = [{}, {}, {"hedge": 1}, {"hedge": 2}, {"hedge": 3}, {"hedge": 1}, {}, {}, {}, {}]
    turns, tags = frames([{"slips": slips, "corrections": {4: ["hedge"]}}])
    res = recurrence(turns, tags, window=3, estimators=("naive_pre_post",), min_corrections=1,
                     n_permutations=0)
    row = res.row(0, named=True)
    # post = turns 5..7: 1 slip in 30 words; pre = turns 2..4: 6 slips in 30 words
    assert row["rate_ratio"] == pytest.approx((1 / 30) / (6 / 30))
    assert row["n_corrections"] == 1
    assert row["ci_low"] < row["rate_ratio"] < row["ci_high"]
    assert "descriptive" in row["note"]
    # exposure in turns gives the same ratio here (equal lengths) ...
    res_t = recurrence(turns, tags, window=3, estimators=("naive_pre_post",), min_corrections=1,
                       exposure="turns")
    assert res_t["rate_ratio"][0] == pytest.approx(1 / 6)
    # ... but not when the post-correction replies are shorter
    words = [10] * 5 + [5] * 5
    turns2, tags2 = frames([{"slips": slips, "words": words, "corrections": {4: ["hedge"]}}])
    res2 = recurrence(turns2, tags2, window=3, estimators=("naive_pre_post",), min_corrections=1)
    assert res2["rate_ratio"][0] == pytest.approx((1 / 15) / (6 / 30))


def _burst_world(n_conv=6, treated_after=1, control_after=4):
    """Conversations with one burst each; odd ones corrected; windows of 3 turns."""
    convs = []
    for i in range(n_conv):
        corrected = i % 2 == 1
        after = treated_after if corrected else control_after
        slips = [{} for _ in range(40)]
        slips[3] = {"hedge": 1}
        slips[5] = {"hedge": after}  # inside the 3-turn window after turn 3
        convs.append({"slips": slips, "corrections": {3: ["hedge"]} if corrected else {}})
    return frames(convs)


def test_result_contract_on_hand_built_frames():
    turns, tags = _burst_world()
    res = recurrence(turns, tags, window=3, trigger_window=1, n_permutations=100,
                     min_corrections=1, min_clusters=2)
    assert list(res.columns) == list(RESULT) + list(RESULT_EXTRA)
    assert res.schema == pl.Schema({**RESULT, **RESULT_EXTRA})
    assert res["category"].to_list() == ["hedge"] * len(ESTIMATORS)
    assert res["estimator"].to_list() == list(ESTIMATORS)
    m = res.filter(pl.col("estimator") == "matched").row(0, named=True)
    assert m["n_corrections"] == 3
    assert m["n_clusters"] >= 2
    assert m["rate_ratio"] < 1  # corrected bursts were followed by 1 slip, controls by 4
    assert m["ci_low"] <= m["rate_ratio"] <= m["ci_high"]
    s = res.filter(pl.col("estimator") == "survival").row(0, named=True)
    assert s["estimate_kind"] == "hazard_ratio"


def test_too_few_corrections_or_clusters_gives_nan_row_with_note():
    turns, tags = _burst_world()
    res = recurrence(turns, tags, window=3, trigger_window=1, n_permutations=50)
    assert res.height == len(ESTIMATORS)
    assert res["rate_ratio"].is_nan().all()
    assert res["note"].str.contains("too few").all()
    one = frames([{"slips": [{"hedge": 3}] * 30, "corrections": {3: ["hedge"], 10: ["hedge"]}}])
    res1 = recurrence(*one, estimators=("matched", "survival"), min_corrections=1,
                      trigger_window=1)
    assert res1["rate_ratio"].is_nan().all()
    assert res1["note"].str.contains("clusters").all()


def test_no_corrections_at_all_is_fine():
    turns, tags = frames([{"slips": [{"hedge": 1}] * 10}, {"slips": [{"refusal": 1}] * 10}])
    res = recurrence(turns, tags, n_permutations=10)
    assert set(res["category"].to_list()) == {"hedge", "refusal"}
    assert res["rate_ratio"].is_nan().all()
    assert res["p_holm"].is_nan().all()


def test_bad_frames_name_the_column():
    turns, tags = _burst_world()
    with pytest.raises(ValueError, match="'text'"):
        recurrence(turns.drop("text"), tags)
    with pytest.raises(ValueError, match="'target'"):
        recurrence(turns, tags.drop("target"))
    with pytest.raises(ValueError, match="'turn'"):
        recurrence(turns.with_columns(pl.col("turn").cast(pl.String)), tags)
    with pytest.raises(ValueError, match="TAGS"):
        recurrence(turns, "not a frame")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="estimator"):
        recurrence(turns, tags, estimators=("magic",))
    with pytest.raises(ValueError, match="category"):
        recurrence(turns, tags, categories=("correction",))


def test_model_column_cuts_segments_and_stratifies():
    slips = [{"hedge": 1}] * 20
    model = ["m1"] * 10 + ["m2"] * 10
    turns, tags = frames([{"slips": slips, "model": model}])
    assert "model" in turns.columns
    p = build_panel(turns, tags)
    assert p.seg_end[0] == 10 and p.seg_start[15] == 10
    p2 = build_panel(turns, tags, by_model=False)
    assert p2.seg_end[0] == 20
    p3 = build_panel(turns.drop("model"), tags)
    assert p3.seg_end[0] == 20


def test_clusters_follow_transcripts():
    turns, tags, _ = simulate(seed=1, n_conversations=6, n_sessions=3, n_turns=100, truth_reps=0)
    assert build_panel(turns, tags).cluster.max() + 1 == 18
    assert build_panel(turns, tags, transcript=simulated_transcripts(turns)).cluster.max() + 1 == 6
    single = build_panel(turns, tags, transcript="single")
    assert single.cluster_kind == "conversation" and single.cluster.max() + 1 == 18
    with pytest.raises(ValueError, match="conversation_id"):
        build_panel(turns, tags, transcript={"c000-s00": "x"})


def test_cond_poisson_matches_statsmodels_glm_with_dummies():
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    n = 600
    s = rng.integers(0, 8, n)
    g = rng.integers(0, 15, n)
    a = rng.integers(0, 2, n).astype(float)
    z = rng.normal(size=n)
    e = rng.uniform(5, 50, n)
    y = rng.poisson(e / 20 * np.exp(0.3 * s / 8 - 0.4 * a + 0.2 * z + 0.3 * rng.normal(size=15)[g]))
    fit = cond_poisson(y, np.log(e), np.column_stack([a, z]), s, g)
    dummies = (s[:, None] == np.arange(8)[None, :]).astype(float)
    glm = sm.GLM(y, np.column_stack([a, z, dummies]), family=sm.families.Poisson(),
                 offset=np.log(e)).fit(cov_type="cluster", cov_kwds={"groups": g})
    assert fit.beta == pytest.approx(glm.params[:2], abs=1e-6)
    assert np.sqrt(np.diag(fit.cov)) == pytest.approx(glm.bse[:2], rel=1e-4)
    assert fit.df == 14


def test_cond_poisson_reports_separation_instead_of_raising():
    y = np.array([0, 0, 0, 3, 4, 5])
    a = np.array([1, 1, 1, 0, 0, 0], dtype=float)
    fit = cond_poisson(y, np.zeros(6), a[:, None], np.zeros(6), np.arange(6))
    assert math.isnan(fit.beta[0]) and fit.note


def test_permutation_p_equals_full_enumeration():
    rng = np.random.default_rng(0)
    y = rng.poisson(2, 11).astype(float)
    e = rng.uniform(1, 3, 11)
    s = np.array([0] * 6 + [1] * 5)
    a = np.zeros(11, dtype=bool)
    a[[0, 1, 6]] = True
    r = score_residuals(y, e, s)
    u_obs = abs(r[a].sum())
    hits = total = 0
    for t0 in itertools.combinations(range(6), 2):
        for t1 in itertools.combinations(range(6, 11), 1):
            u = abs(r[list(t0 + t1)].sum())
            hits += u >= u_obs - 1e-12
            total += 1
    exact = hits / total
    p = stratified_permutation_p(r, a, s, n_permutations=20000, seed=2)
    assert p == pytest.approx(exact, abs=0.015)


@pytest.fixture(scope="module")
def null_world():
    return simulate(seed=21, n_conversations=40, n_sessions=2, n_turns=400, truth_reps=0)


def test_matched_is_near_one_under_rtm_null_where_naive_is_not(null_world):
    turns, tags, _ = null_world
    res = recurrence(turns, tags, n_permutations=200, estimators=("naive_pre_post", "matched"),
                     transcript=simulated_transcripts(turns))
    naive = res.filter(pl.col("estimator") == "naive_pre_post")
    matched = res.filter(pl.col("estimator") == "matched")
    assert naive["log_rate_ratio"].mean() < -0.25
    assert abs(matched["log_rate_ratio"].mean()) < 0.12
    assert (matched["n_clusters"] >= 25).all()  # clusters are the 40 relationships


def test_effect_recovered_and_placebo_near_one():
    turns, tags, truth = simulate(seed=5, theta=0.4, n_conversations=60, n_turns=600,
                                  truth_reps=100)
    res = recurrence(turns, tags, n_permutations=300, estimators=("matched", "placebo", "survival"))
    m = res.filter(pl.col("estimator") == "matched")
    itt = truth.filter(pl.col("category") == "all")["theta_itt"].item()
    assert abs(m["log_rate_ratio"].mean() - math.log(itt)) < 0.15
    assert (m["rate_ratio"] < 1).all()
    assert (m["p_holm"] < 0.05).sum() >= 2
    assert (m["p_holm"] >= m["p_value"]).all()
    pl_rows = res.filter(pl.col("estimator") == "placebo")
    # placebo SE is ~0.2 per category here; real corrections would give about log(0.6)
    assert abs(pl_rows["log_rate_ratio"].mean()) < 0.3
    assert ((pl_rows["ci_low"] <= 1) & (pl_rows["ci_high"] >= 1)).sum() >= 3
    surv = res.filter(pl.col("estimator") == "survival")
    assert surv["log_rate_ratio"].mean() < -0.2


def test_frames_from_simulate_and_hand_agree_on_schema():
    turns, tags, _ = simulate(seed=0, n_conversations=5, n_turns=60, truth_reps=0)
    hand_t, hand_g = _burst_world()
    assert set(TURNS).issubset(hand_t.columns) and set(TAGS) == set(hand_g.columns)
    r1 = recurrence(turns, tags, n_permutations=20)
    r2 = recurrence(hand_t, hand_g, n_permutations=20)
    assert r1.schema == r2.schema


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    from toolkit.recurrence import holm

    p = np.array([0.001, 0.2, 0.03, 0.04, 0.5, 0.012])
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1])
    q = holm(np.array([np.nan, 0.01, 0.02]))
    assert math.isnan(q[0]) and q[1:] == pytest.approx([0.02, 0.02])


def test_empty_frames_give_empty_or_noted_rows():
    t = pl.DataFrame(schema=TURNS)
    g = pl.DataFrame(schema=TAGS)
    assert recurrence(t, g).height == 0
    res = recurrence(t, g, categories=["hedge"])
    assert res.height == len(ESTIMATORS)
    assert res["rate_ratio"].is_nan().all()
    assert (res["note"].str.len_chars() > 0).all()


def test_cr3_is_close_to_the_leave_one_cluster_out_jackknife():
    rng = np.random.default_rng(8)
    n, G = 3000, 12
    g = rng.integers(0, G, n)
    s = rng.integers(0, 5, n)
    a = rng.integers(0, 2, n).astype(float)
    e = rng.uniform(5, 40, n)
    y = rng.poisson(e / 10 * np.exp(-0.3 * a + 0.4 * rng.normal(size=G)[g]))
    full = cond_poisson(y, np.log(e), a[:, None], s, g, cov_type="CR3")
    loo = []
    for c in range(G):
        m = g != c
        loo.append(cond_poisson(y[m], np.log(e[m]), a[m, None], s[m], g[m]).beta[0])
    jack = (G - 1) / G * np.sum((np.array(loo) - full.beta[0]) ** 2)
    assert full.cov[0, 0] == pytest.approx(jack, rel=0.1)
    cr1 = cond_poisson(y, np.log(e), a[:, None], s, g, cov_type="CR1")
    assert cr1.beta[0] == full.beta[0]


def test_single_transcript_world_clusters_by_session():
    turns, tags, _ = simulate(seed=4, n_conversations=1, n_sessions=10, n_turns=800, truth_reps=0)
    res = recurrence(turns, tags, transcript="single", n_permutations=50, estimators=("matched",))
    ok = res.filter(pl.col("rate_ratio").is_not_nan())
    assert ok.height >= 2
    assert (ok["n_clusters"] <= 10).all() and (ok["n_clusters"] >= 6).all()
    # the same sessions grouped as one transcript by mapping: one cluster, so no estimate
    one = recurrence(turns, tags, transcript=simulated_transcripts(turns), cluster="transcript",
                     n_permutations=10, estimators=("matched",))
    assert one["rate_ratio"].is_nan().all() and one["note"].str.contains("too few").all()
    assert one["note"].str.contains("clusters").any()
