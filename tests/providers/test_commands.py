from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from providers.models import Deployment


@pytest.mark.django_db
def test_apply_models_config_reports_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "models.yaml"
    config.write_text(
        "model_list:\n  - model_name: gemma\n    litellm_params:\n"
        "      model: hosted_vllm/google/gemma-3-12b-it\n      api_base: http://vllm-gemma:8000/v1\n",
        encoding="utf-8",
    )
    call_command("apply_models_config", str(config))
    assert "1 created, 0 updated, 0 removed" in capsys.readouterr().out
    assert Deployment.objects.get().upstream_model == "google/gemma-3-12b-it"


@pytest.mark.django_db
def test_apply_models_config_errors_name_the_file_and_change_nothing(tmp_path: Path) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text(
        "model_list:\n  - model_name: x\n    litellm_params: {model: nope/x}\n", encoding="utf-8"
    )
    with pytest.raises(CommandError, match=r"broken.yaml: model_list\[0\].litellm_params.model"):
        call_command("apply_models_config", str(config))
    assert not Deployment.objects.exists()
