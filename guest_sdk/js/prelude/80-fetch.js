  // ---- fetch -------------------------------------------------------------------

  function fetchNow(input, init) {
    const request = new Request(input, init);
    if (request._bodyUsed) throw new TypeError("Body has already been used");
    const wire = wireBody(request._contents, { url: request.url, method: request.method, headers: Array.from(request.headers), redirect: request.redirect });
    const answer = JSON.parse(native.fetch(JSON.stringify(wire)));
    if (!answer.ok) {
      const error = new TypeError("fetch failed: " + answer.error.code + ": " + answer.error.message);
      error.code = answer.error.code;
      throw error;
    }
    const response = new Response(null, { status: answer.status < 200 ? 200 : answer.status, statusText: answer.statusText || "", headers: answer.headers });
    response._status = answer.status;
    response._contents = bodyFromWire(answer);
    response._url = answer.url || request.url;
    response._redirected = !!answer.redirected;
    response._type = "basic";
    return response;
  }
  define("fetch", function fetch(input, init) {
    try { return Promise.resolve(fetchNow(input, init)); } catch (e) { return Promise.reject(e); }
  });
