// The gateway's JSON API, cross-origin: the token goes in an Authorization header (never a cookie).
export class ApiError extends Error {
  constructor(status, error) {
    super((error && error.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (error && error.code) || "http_error";
    this.location = error && error.location;
    this.details = error || {};
  }
}

export class Api {
  constructor(url, token) {
    this.url = url.replace(/\/+$/, "");
    this.token = token;
  }

  async request(method, path, { json, text, contentType, headers } = {}) {
    const init = { method, headers: { authorization: `Bearer ${this.token}`, ...(headers || {}) },
                   credentials: "omit", cache: "no-store" };
    if (json !== undefined) {
      init.body = JSON.stringify(json);
      init.headers["content-type"] = "application/json";
    } else if (text !== undefined) {
      init.body = text;
      init.headers["content-type"] = contentType || "text/plain";
    }
    const response = await fetch(this.url + path, init);
    const body = await response.text();
    let data = null;
    try { data = body ? JSON.parse(body) : null; } catch { data = { raw: body }; }
    if (!response.ok) throw new ApiError(response.status, data && data.error);
    return data;
  }

  get(path) { return this.request("GET", path); }
  functions(tenant) { return this.get(`/api/functions/${enc(tenant)}`); }
  fn(tenant, name) { return this.get(`/api/functions/${enc(tenant)}/${enc(name)}`); }
  // A version's metadata and its code (stored as base64; text when it is UTF-8, else null: a binary module).
  async source(tenant, name, version) {
    const v = await this.get(`/api/functions/${enc(tenant)}/${enc(name)}/versions/${enc(version || "current")}`);
    const bytes = Uint8Array.from(atob(v.code_base64 || ""), (c) => c.charCodeAt(0));
    try { v.code = new TextDecoder("utf-8", { fatal: true }).decode(bytes); } catch { v.code = null; }
    return v;
  }
  versions(tenant, name) { return this.get(`/api/functions/${enc(tenant)}/${enc(name)}/versions`); }
  stats(tenant) { return this.get(`/api/console/${enc(tenant)}/stats`); }
  deploy(tenant, name, spec) { return this.request("PUT", `/api/functions/${enc(tenant)}/${enc(name)}`, { json: spec }); }
  rollback(tenant, name, version) {
    return this.request("POST", `/api/functions/${enc(tenant)}/${enc(name)}/rollback`, { json: version ? { version } : {} });
  }
  secrets(tenant, name) { return this.get(`/api/functions/${enc(tenant)}/${enc(name)}/secrets`); }
  putSecret(tenant, name, secret, value) {
    return this.request("PUT", `/api/functions/${enc(tenant)}/${enc(name)}/secrets/${enc(secret)}`, { json: { value } });
  }
  deleteSecret(tenant, name, secret) {
    return this.request("DELETE", `/api/functions/${enc(tenant)}/${enc(name)}/secrets/${enc(secret)}`);
  }
  invoke(tenant, name, call) { return this.request("POST", `/api/console/${enc(tenant)}/invoke/${enc(name)}`, { json: call }); }

  // The live log (SSE) read with fetch, so the token stays in a header (EventSource cannot send one).
  async tail(tenant, onRecord, signal) {
    const response = await fetch(`${this.url}/api/logs/${enc(tenant)}`, {
      headers: { authorization: `Bearer ${this.token}`, accept: "text/event-stream" }, credentials: "omit", signal });
    if (!response.ok) throw new ApiError(response.status, (await response.json().catch(() => ({}))).error);
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = event.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
        if (data) { try { onRecord(JSON.parse(data)); } catch { /* not JSON: skip */ } }
      }
    }
  }
}

export function enc(s) { return encodeURIComponent(s); }
