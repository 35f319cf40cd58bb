"""The method registry and method variants: parsing, canonical names, errors, shared fits."""

import dataclasses

import pytest
import torch

from botorch_demo import DEMO
from botorch_demo.benchmarks.harness import run_cells
from botorch_demo.benchmarks.methods import (
    VARIANT_FIELDS,
    Method,
    MethodOutput,
    list_methods,
    parse_method_name,
    register_method,
    resolve_methods,
    split_methods,
)
from botorch_demo.benchmarks.store import CellKey, CellStore

TASK = "seq-l6-v5"


# ------------------------------------------------------------------ registry
def test_registry_has_the_paper_methods(bench_methods) -> None:
    assert list_methods() == bench_methods
    assert [m.name for m in resolve_methods("grad, demo")] == ["demo", "grad"]
    assert len(resolve_methods(None)) == len(bench_methods)


def test_register_method_is_one_call(temp_method) -> None:
    def best_offline(ctx):  # the top-K offline designs, as a trivial method
        model = ctx.shared.surrogate_model()
        X = model.train_X[model.ranked_rows[: ctx.q]]
        return MethodOutput(X)

    method = Method("top-offline", "Top offline", "the best K offline designs", (), best_offline)
    temp_method(method)
    assert "top-offline" in list_methods()
    with pytest.raises(ValueError, match="already registered"):
        register_method(method)
    with pytest.raises(ValueError, match="unknown components"):
        Method("x", "X", "", ("gpu",), best_offline)


@pytest.mark.parametrize("name", ["", "Demo", "my method", "a,b", "a/b", "demo[m=1]", "x=y"])
def test_method_names_are_plain_words(name: str) -> None:
    method = Method(name, "X", "", (), lambda ctx: None)
    with pytest.raises(ValueError, match="lower-case words"):
        register_method(method)


# ------------------------------------------------------------------ parsing
def test_the_method_list_splits_outside_brackets_only() -> None:
    text = "demo,demo[ascent_optimizer=sgd],demo[m=200,guidance_weight=3] , grad"
    assert split_methods(text) == [
        "demo",
        "demo[ascent_optimizer=sgd]",
        "demo[m=200,guidance_weight=3]",
        "grad",
    ]
    for bad in ("demo[m=1", "demo]", "demo[[m=1]]"):
        with pytest.raises(ValueError, match="Unbalanced brackets"):
            split_methods(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("demo", ("demo", {})),
        ("DEMO", ("demo", {})),
        ("demo[m=200]", ("demo", {"m": 200})),
        ("demo[guidance_weight=3]", ("demo", {"guidance_weight": 3})),
        ("demo[target_cap=1.5]", ("demo", {"target_cap": 1.5})),
        ("demo[editing=false]", ("demo", {"editing": False})),
        ("demo[ascent_trust_radius=null]", ("demo", {"ascent_trust_radius": None})),
        ("demo[ascent_optimizer=sgd]", ("demo", {"ascent_optimizer": "sgd"})),
        ('demo[sampler="euler"]', ("demo", {"sampler": "euler"})),
        ("demo[ m = 5 , sampler = euler ]", ("demo", {"m": 5, "sampler": "euler"})),
        ("grad[ascent_steps=1e1]", ("grad", {"ascent_steps": 10.0})),
    ],
)
def test_variants_parse_values_as_json_scalars(text: str, expected: tuple) -> None:
    base, overrides = parse_method_name(text)
    assert (base, overrides) == expected
    assert [type(v) for v in overrides.values()] == [type(v) for v in expected[1].values()]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("demo[m]", "is not field=value"),
        ("demo[=3]", "is not field=value"),
        ("demo[m=1,m=2]", "sets 'm' twice"),
        ("demo[]", "sets no field"),
        ("[m=1]", "Bad method name"),
    ],
)
def test_malformed_variants_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_method_name(text)


# ------------------------------------------------------------------ resolving
def test_variants_get_canonical_names_labels_and_order() -> None:
    methods = resolve_methods(
        "grad,demo[m=200,guidance_weight=3],demo,demo[ascent_optimizer=sgd],"
        "demo[guidance_weight=3.0,m=200],grad[ascent_steps=10]"
    )
    assert [m.name for m in methods] == [
        "demo",
        "demo[guidance_weight=3.0,m=200]",
        "demo[ascent_optimizer=sgd]",
        "grad",
        "grad[ascent_steps=10]",
    ]
    demo, variant = methods[0], methods[1]
    assert variant.label == "DEMO [guidance_weight=3.0,m=200]"
    assert variant.overrides == (("guidance_weight", 3.0), ("m", 200))
    assert variant.base_name == "demo" and demo.base_name == "demo"
    assert (variant.components, variant.run) == (demo.components, demo.run)
    assert demo.overrides == () and demo.label == "DEMO"
    # the canonical name reads back as the same variant
    (again,) = resolve_methods([variant.name])
    assert again == variant


def test_a_variant_runs_with_the_profile_config_replaced(tiny_profile) -> None:
    base = tiny_profile.demo
    (variant,) = resolve_methods(["demo[surrogate_epochs=3,m=100]"], base)
    config = variant.config(base)
    assert config == base.replace(surrogate_epochs=3, m=100)
    (plain,) = resolve_methods(["demo"], base)
    assert plain.config(base) is base


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("demo[nope=3]", r"'demo\[nope=3\]': unknown DEMOConfig field\(s\) \['nope'\]"),
        ("demo[m=abc]", r"'demo\[m=abc\]': DEMOConfig.m must be an int"),
        ("demo[m=2000]", r"'demo\[m=2000\]': DEMOConfig.m must lie in \[0, M=1000\]"),
        ("demo[guidance_weight=-1]", "guidance_weight must lie in"),
        ("demo[ascent_optimizer=lbfgs]", "ascent_optimizer must be one of"),
        ("demo[progress=true]", "unknown DEMOConfig field"),
    ],
)
def test_bad_variants_name_themselves_and_list_the_fields(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        resolve_methods([text])
    assert "Valid fields: " + ", ".join(VARIANT_FIELDS) in str(info.value)


def test_methods_without_a_demo_fit_take_no_variants() -> None:
    with pytest.raises(ValueError, match="'bo-qei' uses no DEMO fit"):
        resolve_methods("bo-qei[m=3]")
    with pytest.raises(ValueError, match=r"Unknown method\(s\) \['nope'\]"):
        resolve_methods("nope[m=3]")


def test_variants_are_checked_against_the_given_config(tiny_profile) -> None:
    wide = tiny_profile.demo.replace(M=2000)
    (variant,) = resolve_methods(["demo[m=1500]"], wide)
    assert variant.config(wide).m == 1500
    with pytest.raises(ValueError, match="M=1000"):
        resolve_methods(["demo[m=1500]"])


# ------------------------------------------------------------------ running variants
def test_phase2_variants_share_one_fit(tmp_path, tiny_profile, monkeypatch) -> None:
    fits = []
    original_fit = DEMO.fit

    def counting_fit(self, *args, **kwargs):
        fits.append(self.config)
        return original_fit(self, *args, **kwargs)

    monkeypatch.setattr(DEMO, "fit", counting_fit)
    methods = (
        "demo,demo[m=0,edit_source=offline],demo[m=200],demo[guidance_weight=3],"
        "demo[ascent_optimizer=sgd]"
    )
    run = run_cells([TASK], methods, 1, tiny_profile, tmp_path, desc="test")
    assert len(run.records) == 5
    # One fit for the profile's phase-1 configuration, one for the SGD ascent.
    assert fits == [tiny_profile.demo, tiny_profile.demo.replace(ascent_optimizer="sgd")]
    shared = [r for r in run.records.values() if "ascent_optimizer" not in r["method"]]
    assert {r["method"] for r in shared} == {
        "demo",
        "demo[edit_source=offline,m=0]",
        "demo[m=200]",
        "demo[guidance_weight=3.0]",
    }
    for record in shared:
        assert record["components"] == shared[0]["components"]
        assert record["shared_by"] == {c: 4 for c in record["components"]}
    sgd = run.records[CellKey(TASK, "demo[ascent_optimizer=sgd]", 0)]
    assert sgd["shared_by"] == {c: 1 for c in sgd["components"]}
    assert sgd["label"] == "DEMO [ascent_optimizer=sgd]"
    # Attributed seconds add up to the group's fits once each (plus own time).
    fit_seconds = sum(shared[0]["components"].values()) + sum(sgd["components"].values())
    attributed = sum(
        sum(s / r["shared_by"][c] for c, s in r["components"].items()) for r in run.records.values()
    )
    assert attributed == pytest.approx(fit_seconds)
    # m = 0 returns the top-K offline designs unchanged.
    assert run.records[CellKey(TASK, "demo[edit_source=offline,m=0]", 0)]["p100"] == pytest.approx(
        run.records[CellKey(TASK, "demo", 0)]["d_best"]
    )


def test_a_variant_equal_to_the_profile_gives_the_plain_cell(tmp_path, tiny_profile) -> None:
    assert tiny_profile.demo.m == 400
    run = run_cells([TASK], "demo,demo[m=400],grad,grad[m=400]", 2, tiny_profile, tmp_path)
    cells = CellStore(tmp_path)
    for seed in (0, 1):
        for plain, variant in (("demo", "demo[m=400]"), ("grad", "grad[m=400]")):
            a, b = CellKey(TASK, plain, seed), CellKey(TASK, variant, seed)
            ta, tb = cells.load_tensors(a), cells.load_tensors(b)
            for name in ("candidates", "y", "y_normalized", "predicted"):
                assert torch.equal(ta[name], tb[name]), f"{b} {name}"
            for metric in ("p100", "p50", "proportion_above_d_best", "n_distinct"):
                assert run.records[a][metric] == run.records[b][metric], f"{b} {metric}"


def test_the_context_of_a_variant(tmp_path, tiny_profile, temp_method) -> None:
    seen = {}

    def probe(ctx):
        model = ctx.shared.surrogate_model()
        seen.update(config=ctx.profile.demo, fit=ctx.shared.config, generation=ctx.generation)
        return MethodOutput(model.train_X[: ctx.q])

    temp_method(Method("probe-test", "Probe", "records its context", ("surrogate",), probe))
    run_cells([TASK], "probe-test[surrogate_epochs=3,m=100]", 1, tiny_profile, tmp_path)
    assert seen["config"] == tiny_profile.demo.replace(surrogate_epochs=3, m=100)
    assert seen["fit"] == tiny_profile.demo.replace(surrogate_epochs=3)
    assert seen["generation"] == {"m": 100}
    profile_fields = dataclasses.asdict(tiny_profile)
    assert profile_fields["demo"]["m"] == 400  # the run's profile is left alone


def test_demo_and_grad_cells_record_how_far_the_designs_moved(tmp_path, tiny_profile) -> None:
    run = run_cells([TASK], "demo,grad", 1, tiny_profile, tmp_path)
    demo, grad = (run.records[CellKey(TASK, m, 0)]["info"] for m in ("demo", "grad"))
    assert demo["reach_ascent"] == grad["reach_ascent"]  # one shared D'
    for reach in (demo["reach_ascent"], demo["reach_edits"]):
        assert 0.0 <= reach["positions_changed"] <= 6.0  # seq-l6-v5: 6 positions
        assert reach["fraction_changed"] == pytest.approx(reach["positions_changed"] / 6)
        assert reach["sd_moved"] is None  # no continuous columns
        assert 0.0 <= reach["unchanged"] <= 1.0
    # The edits leave their sources (m = 400 of 1000 noises them far enough).
    assert demo["reach_edits"]["unchanged"] < 1.0
