//! wasmtask Rust SDK: write `fn handle(req: &Request) -> Result<Response, String>`
//! and register it with `wasmtask::entry!(handle);`.
//!
//! ```ignore
//! use wasmtask::{Request, Response};
//!
//! fn handle(req: &Request) -> Result<Response, String> {
//!     let name = req.query("name").unwrap_or("world");
//!     wasmtask::log_info(&format!("hello from Rust, {}", name));
//!     Ok(Response::json(format!("{{\"hello\":{}}}", wasmtask::json::quote(name))))
//! }
//!
//! wasmtask::entry!(handle);
//! ```
//!
//! Deployed as source (language "rust"), wasmtask compiles this crate once (an
//! rlib named `wasmtask`) and your source against it for wasm32-unknown-unknown
//! (a cdylib; std is available, other crates are not). The SDK
//! hands you the request JSON (`req.raw`) and a small parsed view of it
//! (`wasmtask::json::Value`); you return a JSON string, a response or an error.
//! A panic is logged and ends the call with `guest_error`.


mod host {
    #[link(wasm_import_module = "wasmtask")]
    extern "C" {
        pub fn log(level: i32, ptr: *const u8, len: usize);
        pub fn fetch(ptr: *const u8, len: usize) -> i32;
        pub fn staged_read(ptr: *mut u8, len: usize) -> i32;
        pub fn out_of_memory();
    }
}

/// Log levels of `log`.
pub const DEBUG: i32 = 0;
pub const INFO: i32 = 1;
pub const WARN: i32 = 2;
pub const ERROR: i32 = 3;

/// One line on the tenant's log stream.
pub fn log(level: i32, message: &str) {
    unsafe { host::log(level, message.as_ptr(), message.len()) }
}

pub fn log_info(message: &str) {
    log(INFO, message)
}

/// The request (guest_sdk/ABI.md "The request JSON").
pub struct Request {
    /// The request JSON as the host sent it.
    pub raw: String,
    /// The same, parsed.
    pub value: json::Value,
}

impl Request {
    pub fn method(&self) -> &str {
        self.value.get("method").and_then(json::Value::as_str).unwrap_or("GET")
    }

    pub fn path(&self) -> &str {
        self.value.get("path").and_then(json::Value::as_str).unwrap_or("/")
    }

    /// A query parameter (the first value when repeated).
    pub fn query(&self, name: &str) -> Option<&str> {
        match self.value.get("query")?.get(name)? {
            json::Value::String(text) => Some(text),
            json::Value::Array(items) => items.first()?.as_str(),
            _ => None,
        }
    }

    /// A header, by its lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.value.get("headers")?.get(name)?.as_str()
    }

    pub fn secret(&self, name: &str) -> Option<&str> {
        self.value.get("secrets")?.get(name)?.as_str()
    }

    /// The body as text (None when empty or not UTF-8: see `body_base64`).
    pub fn body(&self) -> Option<&str> {
        self.value.get("body")?.as_str()
    }
}

/// What a handler returns.
pub enum Response {
    /// A JSON value, as JSON text.
    Json(String),
    /// An HTTP response.
    Http { status: u16, headers: Vec<(String, String)>, body: String },
}

impl Response {
    pub fn json(value_json: impl Into<String>) -> Response {
        Response::Json(value_json.into())
    }

    pub fn text(status: u16, content_type: &str, body: impl Into<String>) -> Response {
        Response::Http { status, headers: vec![("content-type".into(), content_type.into())], body: body.into() }
    }
}

/// The fetch request JSON of ABI.md, e.g. `{"url": "https://example.com/", "method": "GET"}`.
/// Returns the response JSON, parsed: `{"ok": true, "status", "headers", "body"}` or
/// `{"ok": false, "error": {"code", "message"}}`.
pub fn fetch(request_json: &str) -> json::Value {
    let length = unsafe { host::fetch(request_json.as_ptr(), request_json.len()) };
    if length < 0 {
        return json::parse(r#"{"ok":false,"error":{"code":"fetch_failed","message":"fetch is unavailable"}}"#).unwrap();
    }
    let mut buffer = vec![0u8; length as usize];
    let copied = unsafe { host::staged_read(buffer.as_mut_ptr(), buffer.len()) };
    buffer.truncate(copied.max(0) as usize);
    let text = String::from_utf8_lossy(&buffer);
    json::parse(&text).unwrap_or(json::Value::Null)
}

/// A GET of `url`.
pub fn fetch_get(url: &str) -> json::Value {
    fetch(&format!("{{\"method\":\"GET\",\"url\":{}}}", json::quote(url)))
}

/// Registers `handler` as the function's handler: defines the ABI exports.
#[macro_export]
macro_rules! entry {
    ($handler:path) => {
        #[no_mangle]
        pub extern "C" fn wasmtask_alloc(length: usize) -> *mut u8 {
            $crate::alloc(length)
        }

        #[no_mangle]
        pub extern "C" fn wasmtask_handle(ptr: *mut u8, length: usize) -> u64 {
            $crate::run($handler, ptr, length)
        }
    };
}

// ---- the ABI side (used by `entry!`) ------------------------------------------------------

/// The system allocator, saying so in the log when the memory limit stops it (Rust
/// then aborts: a trap, since wasm32 cannot unwind).
struct LoggingAllocator;

unsafe impl std::alloc::GlobalAlloc for LoggingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let ptr = std::alloc::System.alloc(layout);
        if ptr.is_null() {
            log_out_of_memory(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        std::alloc::System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        let new_ptr = std::alloc::System.realloc(ptr, layout, new_size);
        if new_ptr.is_null() {
            log_out_of_memory(new_size);
        }
        new_ptr
    }
}

#[global_allocator]
static ALLOCATOR: LoggingAllocator = LoggingAllocator;

/// Without allocating: "out of memory: an allocation of N bytes failed (memory limit)".
fn log_out_of_memory(size: usize) {
    let mut line = [0u8; 96];
    let prefix = b"out of memory: an allocation of ";
    let suffix = b" bytes failed (memory limit)";
    line[..prefix.len()].copy_from_slice(prefix);
    let mut length = prefix.len();
    let mut digits = [0u8; 20];
    let (mut count, mut rest) = (0, size);
    loop {
        digits[count] = b'0' + (rest % 10) as u8;
        count += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for index in (0..count).rev() {
        line[length] = digits[index];
        length += 1;
    }
    line[length..length + suffix.len()].copy_from_slice(suffix);
    length += suffix.len();
    unsafe {
        host::log(ERROR, line.as_ptr(), length);
        host::out_of_memory(); // Rust aborts next: the host reports that trap as memory_limit
    }
}

pub fn alloc(length: usize) -> *mut u8 {
    let mut buffer: Vec<u8> = Vec::with_capacity(length.max(1));
    let ptr = buffer.as_mut_ptr();
    std::mem::forget(buffer); // the host drops the whole instance after the call
    ptr
}

fn pack(reply: String) -> u64 {
    let reply = reply.into_bytes().into_boxed_slice();
    let (ptr, length) = (reply.as_ptr() as u64, reply.len() as u64);
    std::mem::forget(reply);
    (ptr << 32) | length
}

fn failure(code: &str, message: &str) -> String {
    format!("{{\"ok\":false,\"error\":{{\"code\":{},\"message\":{}}}}}", json::quote(code), json::quote(message))
}

pub fn run(handler: fn(&Request) -> Result<Response, String>, ptr: *mut u8, length: usize) -> u64 {
    std::panic::set_hook(Box::new(|info| log(ERROR, &format!("panic: {}", info))));
    let bytes = unsafe { std::slice::from_raw_parts(ptr, length) };
    let raw = String::from_utf8_lossy(bytes).into_owned();
    let value = match json::parse(&raw) {
        Some(value) => value,
        None => return pack(failure("guest_error", "the request is not valid JSON")),
    };
    let request = Request { raw, value };
    let reply = match handler(&request) {
        Ok(Response::Json(text)) => {
            let text = if text.trim().is_empty() { "null".to_string() } else { text };
            format!("{{\"ok\":true,\"result\":{{\"type\":\"json\",\"value\":{}}}}}", text)
        }
        Ok(Response::Http { status, headers, body }) => {
            let headers: Vec<String> =
                headers.iter().map(|(name, value)| format!("[{},{}]", json::quote(name), json::quote(value))).collect();
            format!(
                "{{\"ok\":true,\"result\":{{\"type\":\"response\",\"status\":{},\"headers\":[{}],\"body\":{}}}}}",
                status,
                headers.join(","),
                json::quote(&body)
            )
        }
        Err(message) => failure("guest_error", &message),
    };
    pack(reply)
}

/// Just enough JSON: parse into a `Value`, look things up, quote strings.
pub mod json {
    use std::collections::BTreeMap;

    #[derive(Debug, Clone, PartialEq)]
    pub enum Value {
        Null,
        Bool(bool),
        Number(f64),
        String(String),
        Array(Vec<Value>),
        Object(BTreeMap<String, Value>),
    }

    impl Value {
        /// A member of an object.
        pub fn get(&self, key: &str) -> Option<&Value> {
            match self {
                Value::Object(map) => map.get(key),
                _ => None,
            }
        }

        pub fn as_str(&self) -> Option<&str> {
            match self {
                Value::String(text) => Some(text),
                _ => None,
            }
        }

        pub fn as_f64(&self) -> Option<f64> {
            match self {
                Value::Number(number) => Some(*number),
                _ => None,
            }
        }

        pub fn as_bool(&self) -> Option<bool> {
            match self {
                Value::Bool(flag) => Some(*flag),
                _ => None,
            }
        }

        /// Back to JSON text.
        pub fn to_json(&self) -> String {
            match self {
                Value::Null => "null".into(),
                Value::Bool(flag) => flag.to_string(),
                Value::Number(number) if number.is_finite() => number.to_string(),
                Value::Number(_) => "null".into(),
                Value::String(text) => quote(text),
                Value::Array(items) => format!("[{}]", items.iter().map(Value::to_json).collect::<Vec<_>>().join(",")),
                Value::Object(map) => format!(
                    "{{{}}}",
                    map.iter().map(|(key, value)| format!("{}:{}", quote(key), value.to_json())).collect::<Vec<_>>().join(",")
                ),
            }
        }
    }

    /// `text` as a JSON string literal, quotes included.
    pub fn quote(text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 2);
        out.push('"');
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    /// Parse JSON text; None when it is not valid JSON.
    pub fn parse(text: &str) -> Option<Value> {
        let mut parser = Parser { bytes: text.as_bytes(), at: 0 };
        let value = parser.value(0)?;
        parser.space();
        if parser.at == parser.bytes.len() {
            Some(value)
        } else {
            None
        }
    }

    struct Parser<'a> {
        bytes: &'a [u8],
        at: usize,
    }

    const MAX_DEPTH: usize = 128;

    impl<'a> Parser<'a> {
        fn space(&mut self) {
            while self.at < self.bytes.len() && matches!(self.bytes[self.at], b' ' | b'\t' | b'\n' | b'\r') {
                self.at += 1;
            }
        }

        fn eat(&mut self, literal: &str) -> bool {
            if self.bytes[self.at..].starts_with(literal.as_bytes()) {
                self.at += literal.len();
                true
            } else {
                false
            }
        }

        fn value(&mut self, depth: usize) -> Option<Value> {
            if depth > MAX_DEPTH {
                return None;
            }
            self.space();
            match *self.bytes.get(self.at)? {
                b'n' if self.eat("null") => Some(Value::Null),
                b't' if self.eat("true") => Some(Value::Bool(true)),
                b'f' if self.eat("false") => Some(Value::Bool(false)),
                b'"' => self.string().map(Value::String),
                b'[' => {
                    self.at += 1;
                    let mut items = Vec::new();
                    self.space();
                    if self.eat("]") {
                        return Some(Value::Array(items));
                    }
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.space();
                        if self.eat("]") {
                            return Some(Value::Array(items));
                        }
                        if !self.eat(",") {
                            return None;
                        }
                    }
                }
                b'{' => {
                    self.at += 1;
                    let mut map = BTreeMap::new();
                    self.space();
                    if self.eat("}") {
                        return Some(Value::Object(map));
                    }
                    loop {
                        self.space();
                        let key = self.string()?;
                        self.space();
                        if !self.eat(":") {
                            return None;
                        }
                        map.insert(key, self.value(depth + 1)?);
                        self.space();
                        if self.eat("}") {
                            return Some(Value::Object(map));
                        }
                        if !self.eat(",") {
                            return None;
                        }
                    }
                }
                _ => self.number(),
            }
        }

        fn number(&mut self) -> Option<Value> {
            let start = self.at;
            while self.at < self.bytes.len() && matches!(self.bytes[self.at], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                self.at += 1;
            }
            std::str::from_utf8(&self.bytes[start..self.at]).ok()?.parse().ok().map(Value::Number)
        }

        fn hex4(&mut self) -> Option<u32> {
            let digits = std::str::from_utf8(self.bytes.get(self.at..self.at + 4)?).ok()?;
            self.at += 4;
            u32::from_str_radix(digits, 16).ok()
        }

        fn string(&mut self) -> Option<String> {
            if self.bytes.get(self.at) != Some(&b'"') {
                return None;
            }
            self.at += 1;
            let mut out = Vec::new();
            loop {
                let byte = *self.bytes.get(self.at)?;
                self.at += 1;
                match byte {
                    b'"' => return String::from_utf8(out).ok(),
                    b'\\' => {
                        let escape = *self.bytes.get(self.at)?;
                        self.at += 1;
                        let c = match escape {
                            b'n' => '\n',
                            b't' => '\t',
                            b'r' => '\r',
                            b'b' => '\u{8}',
                            b'f' => '\u{c}',
                            b'"' | b'\\' | b'/' => escape as char,
                            b'u' => {
                                let mut code = self.hex4()?;
                                if (0xD800..0xDC00).contains(&code) && self.eat("\\u") {
                                    let low = self.hex4()?;
                                    code = 0x10000 + ((code - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
                                }
                                char::from_u32(code).unwrap_or('\u{FFFD}')
                            }
                            _ => return None,
                        };
                        let mut utf8 = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                    }
                    _ => out.push(byte),
                }
            }
        }
    }
}
