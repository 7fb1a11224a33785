// Injected by toolchains/bundler.py when a function's own files use the global `Buffer`
// (Node and Workers' nodejs_compat have one): the npm `buffer` package from the platform's set.
export { Buffer } from "buffer";
