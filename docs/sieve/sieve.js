// Primes below ?n= (default 10000) by the sieve of Eratosthenes: the same algorithm as sieve.rs and sieve.c
// (docs/benchmarking.md compares the three: fuel, time, peak memory).
export default {
  fetch(request) {
    const n = Number(new URL(request.url).searchParams.get("n") ?? 10000);
    const composite = new Uint8Array(n);
    let count = 0;
    for (let i = 2; i < n; i++) {
      if (composite[i]) continue;
      count++;
      if (i <= (n - 1) / i) for (let j = i * i; j < n; j += i) composite[j] = 1;
    }
    return Response.json({ n, primes: count, language: "javascript" });
  },
};
