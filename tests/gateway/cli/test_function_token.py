"""``wasmtask token issue --function NAME``: a token for one function of the tenant."""

from __future__ import annotations

from tests.gateway.cli.support import Cli
from tests.gateway.support import Api, error_code

CODE = "export default { fetch() { return new Response('ok') } }"


def test_a_token_issued_for_one_function_acts_on_that_function_only(api: Api, cli: Cli) -> None:
    for name in ("hook", "other"):
        api.deployed(cli.tenant, name, CODE, api.admin)

    issued = cli("token", "issue", "--tenant", cli.tenant, "--function", "hook", "--json")

    assert issued.status == 0, issued.err
    assert issued.json()["function"] == "hook"
    headers = {"authorization": f"Bearer {issued.json()['token']}"}
    assert api.http.get(f"/api/functions/{cli.tenant}/hook", headers=headers).status_code == 200
    other = api.http.get(f"/api/functions/{cli.tenant}/other", headers=headers)
    assert other.status_code == 403 and error_code(other) == "forbidden"


def test_a_bad_function_name_is_a_usage_error(cli: Cli) -> None:
    issued = cli("token", "issue", "--tenant", cli.tenant, "--function", "Not/A/Name")

    assert issued.status != 0
    assert "invalid function" in issued.err
