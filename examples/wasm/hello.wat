;; A raw Wasm function for wasmtask, by hand: deploy it with language "wasm" (WAT
;; text or the binary). It logs one line and answers {"hello": "wasm", "request":
;; <the request JSON>}. The ABI is guest_sdk/ABI.md: export memory, wasmtask_alloc
;; and wasmtask_handle; import only from "wasmtask".
(module
  (import "wasmtask" "log" (func $log (param i32 i32 i32)))

  (memory (export "memory") 1)

  ;; a bump allocator from 1024 up, growing memory as needed (the host drops the
  ;; whole instance after the call, so nothing is ever freed)
  (global $next (mut i32) (i32.const 1024))

  (data (i32.const 16) "hello from WAT")                                   ;; 14 bytes
  (data (i32.const 64) "{\"ok\":true,\"result\":{\"type\":\"json\",\"value\":{\"hello\":\"wasm\",\"request\":")  ;; 69 bytes
  (data (i32.const 160) "}}}")                                             ;; 3 bytes

  (func $alloc (export "wasmtask_alloc") (param $length i32) (result i32)
    (local $start i32)
    (local $end i32)
    (local.set $start (global.get $next))
    (local.set $end (i32.add (local.get $start) (local.get $length)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then
        (if (i32.eq
              (memory.grow (i32.sub (i32.shr_u (i32.add (local.get $end) (i32.const 65535)) (i32.const 16))
                                    (memory.size)))
              (i32.const -1))
          (then (return (i32.const 0))))))  ;; 0: out of memory
    (global.set $next (local.get $end))
    (local.get $start))

  ;; handle(request_ptr, request_len) -> (out_ptr << 32) | out_len
  (func (export "wasmtask_handle") (param $ptr i32) (param $length i32) (result i64)
    (local $out i32)
    (local $total i32)
    (call $log (i32.const 1) (i32.const 16) (i32.const 14))
    (local.set $total (i32.add (local.get $length) (i32.const 72)))
    (local.set $out (call $alloc (local.get $total)))
    (if (i32.eqz (local.get $out)) (then unreachable))
    (memory.copy (local.get $out) (i32.const 64) (i32.const 69))
    (memory.copy (i32.add (local.get $out) (i32.const 69)) (local.get $ptr) (local.get $length))
    (memory.copy (i32.add (i32.add (local.get $out) (i32.const 69)) (local.get $length)) (i32.const 160) (i32.const 3))
    (i64.or
      (i64.shl (i64.extend_i32_u (local.get $out)) (i64.const 32))
      (i64.extend_i32_u (local.get $total))))
)
