"""``wasmtask token issue`` and ``wasmtask token revoke``, against the control plane."""

from __future__ import annotations

import time

from tests.gateway.cli.support import Cli
from tests.gateway.support import Api, error_code


def refused(api: Api, tenant: str, token: str) -> str:
    """The error code the serving listener gives ``token`` once it refuses it (within 2 s)."""
    headers = {"authorization": f"Bearer {token}"}
    deadline = time.monotonic() + 2
    while (response := api.http.get(f"/api/functions/{tenant}", headers=headers)).status_code == 200:
        assert time.monotonic() < deadline, "the revoked token is still accepted"
        time.sleep(0.02)
    return error_code(response)


def test_the_admin_revokes_a_token_by_its_id(api: Api, cli: Cli) -> None:
    issued = cli("token", "issue", "--tenant", cli.tenant, "--scopes", "deploy", "--json").json()
    assert api.http.get(f"/api/functions/{cli.tenant}",
                        headers={"authorization": f"Bearer {issued['token']}"}).status_code == 200

    revoked = cli("token", "revoke", issued["jti"])

    assert revoked.status == 0, revoked.err
    assert revoked.out.strip() == f"Revoked token {issued['jti']} of tenant {cli.tenant}"
    assert refused(api, cli.tenant, issued["token"]) == "token_revoked"


def test_a_tenant_revokes_its_own_leaked_token_without_the_admin_key(api: Api, cli: Cli) -> None:
    leaked = cli("token", "issue", "--tenant", cli.tenant, "--scopes", "deploy").out.strip()

    revoked = cli("token", "revoke", leaked, "--admin-key", "", "--json")

    assert revoked.status == 0, revoked.err
    assert revoked.json()["tenant"] == cli.tenant and revoked.json()["revoked"] is True
    assert refused(api, cli.tenant, leaked) == "token_revoked"
    own = {"authorization": f"Bearer {cli.env['WASMTASK_TOKEN']}"}
    assert api.http.get(f"/api/functions/{cli.tenant}", headers=own).status_code == 200  # the tenant's other


def test_tenant_commands_go_to_the_control_plane(cli: Cli, api: Api) -> None:
    misdirected = cli("tenants", "list", "--control-url", api.url)
    listed = cli("tenants", "list", "--json")

    assert misdirected.status != 0 and "control plane" in misdirected.err
    assert listed.status == 0 and cli.tenant in [tenant["name"] for tenant in listed.json()["tenants"]]
