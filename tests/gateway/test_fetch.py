"""A function's fetch goes only where its allowed_hosts say (here: the gateway itself, on loopback)."""

from __future__ import annotations

from tests.gateway.support import Api

FETCHER = """
export default {
  async fetch(request, env) {
    try {
      const answer = await fetch(env.TARGET + "/healthz");
      return Response.json({ status: answer.status, body: await answer.json() });
    } catch (error) {
      return Response.json({ error: error.code || String(error) }, { status: 502 });
    }
  },
};
"""


def test_fetch_reaches_an_allowed_host(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "fetcher", FETCHER, token, allowed_hosts=[api.url], env={"TARGET": api.url})

    response = api.http.get(f"/run/{tenant}/fetcher")

    assert response.json() == {"status": 200, "body": {"status": "ok"}}


def test_fetch_elsewhere_is_denied(api: Api, tenant: str, token: dict) -> None:
    api.deployed(tenant, "fetcher", FETCHER, token, env={"TARGET": api.url})

    response = api.http.get(f"/run/{tenant}/fetcher")

    assert response.status_code == 502
    assert response.json() == {"error": "egress_denied"}
