// An AssemblyScript function for wasmtask: deploy it with language "assemblyscript".
// It greets ?name=, logs, and echoes the request method.
import { JSON, Request, Response, log } from "./wasmtask";

export function handle(req: Request): Response {
  const query = req.query("name");
  const name = query === null ? "world" : query;
  log("hello from AssemblyScript, " + name);
  return Response.json(`{"hello":${JSON.quote(name)},"method":${JSON.quote(req.method)},"language":"assemblyscript"}`);
}
