//! A Rust function for wasmtask: deploy it with language "rust".
//! It greets ?name=, logs, and echoes the request method.
use wasmtask::json::quote;
use wasmtask::{Request, Response};

fn handle(req: &Request) -> Result<Response, String> {
    let name = req.query("name").unwrap_or("world");
    wasmtask::log_info(&format!("hello from Rust, {}", name));
    Ok(Response::json(format!(
        "{{\"hello\":{},\"method\":{},\"language\":\"rust\"}}",
        quote(name),
        quote(req.method())
    )))
}

wasmtask::entry!(handle);
