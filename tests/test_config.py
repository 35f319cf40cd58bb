"""DEMOConfig: presets, validation and serialisation."""

import dataclasses
import json

from botorch.utils.testing import BotorchTestCase

from botorch_demo import DEMOConfig


class TestDEMOConfig(BotorchTestCase):
    def test_paper_preset_has_section_5_4_values(self) -> None:
        cfg = DEMOConfig.paper()
        self.assertEqual((cfg.surrogate_hidden, cfg.surrogate_layers), (2048, 2))
        self.assertEqual((cfg.diffusion_hidden, cfg.diffusion_layers), (2048, 2))
        self.assertEqual(cfg.surrogate_activation, "relu")
        self.assertEqual((cfg.surrogate_epochs, cfg.surrogate_batch_size), (200, 128))
        self.assertEqual(cfg.surrogate_lr, 1e-1)
        self.assertEqual(cfg.ascent_steps, 100)
        self.assertEqual(cfg.ascent_step_size_continuous, 1e-3)
        self.assertEqual(cfg.ascent_step_size_discrete, 1e-1)
        self.assertEqual((cfg.diffusion_epochs, cfg.diffusion_batch_size), (1000, 128))
        self.assertEqual((cfg.m, cfg.M, cfg.target_score), (400, 1000, 1.0))
        self.assertEqual(cfg.sampler, "heun")

    def test_presets_are_valid_and_distinct(self) -> None:
        presets = [DEMOConfig(), DEMOConfig.paper(), DEMOConfig.fast(), DEMOConfig.smoke()]
        self.assertEqual(len({json.dumps(p.to_dict(), sort_keys=True) for p in presets}), 4)
        self.assertEqual(DEMOConfig.fast(m=300).m, 300)

    def test_dict_round_trip_is_json_friendly(self) -> None:
        cfg = DEMOConfig.fast(m=250, sampler="euler")
        data = json.loads(json.dumps(cfg.to_dict()))
        self.assertEqual(DEMOConfig.from_dict(data), cfg)
        self.assertEqual(DEMOConfig(**dataclasses.asdict(cfg)), cfg)
        with self.assertRaisesRegex(ValueError, "Unknown DEMOConfig fields: \\['bogus'\\]"):
            DEMOConfig.from_dict({**data, "bogus": 1})

    def test_replace_validates(self) -> None:
        self.assertEqual(DEMOConfig().replace(guidance_weight=0.5).guidance_weight, 0.5)
        with self.assertRaisesRegex(ValueError, "m must lie in"):
            DEMOConfig().replace(m=2000)

    def test_invalid_values_are_named(self) -> None:
        cases = {
            "surrogate_hidden": dict(surrogate_hidden=0),
            "ascent_steps": dict(ascent_steps=-1),
            "num_steps": dict(num_steps=0),
            "diffusion_lr": dict(diffusion_lr=0.0),
            "beta_min": dict(beta_min=5.0, beta_max=1.0),
            "condition_dropout": dict(condition_dropout=1.0),
            "sampler": dict(sampler="rk4"),
            "categorical_encoding": dict(categorical_encoding="ordinal"),
            "edit_source": dict(edit_source="ascent", editing=False),
            "logit_smoothing": dict(logit_smoothing=0.0),
        }
        for name, kwargs in cases.items():
            with self.subTest(name=name), self.assertRaisesRegex(ValueError, name):
                DEMOConfig(**kwargs)
