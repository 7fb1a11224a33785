/* Primes below ?n= (default 10000) by the sieve of Eratosthenes: the same algorithm as sieve.js and sieve.rs. */
#include <stdlib.h>
#include "wasmtask.h"

void handle(const char *request) {
    char text[16] = "10000";
    wt_json_string(request, "query.n", text, sizeof text);
    long n = strtol(text, NULL, 10);
    unsigned char *composite = calloc(n > 0 ? (size_t)n : 1, 1);
    if (composite == NULL) {
        wt_error_code("memory_limit_exceeded", "no memory for the sieve");
        return;
    }
    long count = 0;
    for (long i = 2; i < n; i++) {
        if (composite[i]) continue;
        count++;
        if (i <= (n - 1) / i) for (long j = i * i; j < n; j += i) composite[j] = 1;
    }
    free(composite);
    wt_buf out = {0};
    wt_buf_printf(&out, "{\"n\":%ld,\"primes\":%ld,\"language\":\"c\"}", n, count);
    wt_return_json(out.data);
}
