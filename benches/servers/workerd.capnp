# workerd peer: the hello Workers module on one HTTP socket.
# The harness copies this next to hello.js and sets the address with
# `workerd serve workerd.capnp --socket-addr http=127.0.0.1:PORT`.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .hello)],
  sockets = [(name = "http", address = "127.0.0.1:8080", http = (), service = "main")],
);

const hello :Workerd.Worker = (
  modules = [(name = "hello.js", esModule = embed "hello.js")],
  compatibilityDate = "2024-09-23",
);
