// The function of examples/c/hello.c and examples/rust/hello.rs, in JavaScript:
// greets ?name=, logs, and echoes the request method (docs/benchmarking.md compares the three).
export default {
  fetch(request) {
    const name = new URL(request.url).searchParams.get("name") ?? "world";
    console.log(`hello from JavaScript, ${name}`);
    return Response.json({ hello: name, method: request.method, language: "javascript" });
  },
};
