"""Platform admins edit deployments in the admin; keys stay write-only."""

from __future__ import annotations

from django.test import Client

from providers.models import Deployment
from providers.snapshot import deployment_target
from tests.personas import Personas


def test_platform_admin_adds_a_deployment_with_a_write_only_key(
    client: Client, personas: Personas
) -> None:
    # given
    client.force_login(personas.platform_admin)
    # when
    response = client.post(
        "/admin/providers/deployment/add/",
        {
            "model_name": "qwen3-8b",
            "provider": "hosted_vllm",
            "upstream_model": "Qwen/Qwen3-8B",
            "api_base": "http://vllm-qwen:8000/v1",
            "api_key": "sk-admin-typed-9876",
            "weight": 1,
            "mode": "chat",
            "source": "admin",
            "is_enabled": "on",
            "secret_env": "{}",
            "params": "{}",
            "byok": "allowed",
        },
    )
    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    deployment = Deployment.objects.get(model_name="qwen3-8b")
    assert deployment.api_key_last4 == "9876"
    assert b"sk-admin-typed" not in bytes(deployment.secrets_ciphertext)
    assert deployment_target(deployment).api_key == "sk-admin-typed-9876"
    page = client.get(f"/admin/providers/deployment/{deployment.pk}/change/").content.decode()
    assert "sk-admin-typed" not in page
    assert "9876" in page


def test_only_platform_admins_reach_the_admin(client: Client, personas: Personas) -> None:
    for user in (personas.member, personas.dept_admin, personas.finance, personas.outsider):
        client.force_login(user)
        response = client.get("/admin/providers/deployment/")
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_renaming_a_deployment_keeps_its_stored_key_usable(
    client: Client, personas: Personas
) -> None:
    # given a deployment with a literal key, saved through the admin
    client.force_login(personas.platform_admin)
    fields = {
        "provider": "hosted_vllm",
        "upstream_model": "Qwen/Qwen3-8B",
        "api_base": "http://vllm:8000/v1",
        "weight": 1,
        "mode": "chat",
        "is_enabled": "on",
        "secret_env": "{}",
        "params": "{}",
        "byok": "allowed",
    }
    client.post(
        "/admin/providers/deployment/add/",
        {**fields, "model_name": "qwen", "api_key": "sk-keep-5555"},
    )
    deployment = Deployment.objects.get(model_name="qwen")
    # when only its name changes (the key field left empty)
    response = client.post(
        f"/admin/providers/deployment/{deployment.pk}/change/", {**fields, "model_name": "qwen-ko"}
    )
    # then the key still opens under the new name
    assert response.status_code == 302
    deployment.refresh_from_db()
    assert deployment.model_name == "qwen-ko"
    assert deployment_target(deployment).api_key == "sk-keep-5555"
