//! Primes below ?n= (default 10000) by the sieve of Eratosthenes: the same algorithm as sieve.js and sieve.c.
use wasmtask::{Request, Response};

fn handle(req: &Request) -> Result<Response, String> {
    let n: usize = req.query("n").and_then(|text| text.parse().ok()).unwrap_or(10_000);
    let mut composite = vec![false; n];
    let mut count = 0;
    for i in 2..n {
        if composite[i] {
            continue;
        }
        count += 1;
        if i > (n - 1) / i {
            continue; // i * i >= n (and i * i could overflow)
        }
        let mut j = i * i;
        while j < n {
            composite[j] = true;
            j += i;
        }
    }
    Ok(Response::json(format!("{{\"n\":{},\"primes\":{},\"language\":\"rust\"}}", n, count)))
}

wasmtask::entry!(handle);
