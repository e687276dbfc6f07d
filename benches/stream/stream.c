/* A minimal STREAM (after McCalpin): copy, scale, add and triad on float64 arrays of
 * 10M elements (80 MB each, far past any cache), OpenMP-parallel, best of 10 trials.
 * Bytes are counted as STREAM does, without write-allocate traffic: copy and scale
 * move 2 arrays per pass, add and triad 3.  Prints one JSON line:
 *   {"copy_gb_s", "scale_gb_s", "add_gb_s", "triad_gb_s", "threads", "n", "trials"}
 *
 * Build and run (benches/suite/peers.py does this itself, into target/peers/):
 *   gcc -O3 -march=native -fopenmp benches/stream/stream.c -o target/peers/stream
 *   target/peers/stream            # OMP_NUM_THREADS=N to change the thread count
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#define N 10000000L
#define TRIALS 10

static double a[N], b[N], c[N];

int main(void) {
    const double s = 3.0;
    double best[4] = {1e30, 1e30, 1e30, 1e30};
    int threads = 1;
#pragma omp parallel
    {
#pragma omp single
        threads = omp_get_num_threads();
    }
    /* First touch in parallel, with the same static schedule as the kernels. */
#pragma omp parallel for schedule(static)
    for (long j = 0; j < N; j++) { a[j] = 1.0; b[j] = 2.0; c[j] = 0.0; }

    for (int k = 0; k < TRIALS; k++) {
        double t[5];
        t[0] = omp_get_wtime();
#pragma omp parallel for schedule(static)
        for (long j = 0; j < N; j++) c[j] = a[j];
        t[1] = omp_get_wtime();
#pragma omp parallel for schedule(static)
        for (long j = 0; j < N; j++) b[j] = s * c[j];
        t[2] = omp_get_wtime();
#pragma omp parallel for schedule(static)
        for (long j = 0; j < N; j++) c[j] = a[j] + b[j];
        t[3] = omp_get_wtime();
#pragma omp parallel for schedule(static)
        for (long j = 0; j < N; j++) a[j] = b[j] + s * c[j];
        t[4] = omp_get_wtime();
        for (int i = 0; i < 4; i++)
            if (t[i + 1] - t[i] < best[i]) best[i] = t[i + 1] - t[i];
    }
    /* Keep the results live so that no loop is optimized away. */
    double check = 0;
    for (long j = 0; j < N; j += 4096) check += a[j] + b[j] + c[j];
    if (check == 0) fprintf(stderr, "unexpected checksum\n");

    const double bytes[4] = {2.0 * 8 * N, 2.0 * 8 * N, 3.0 * 8 * N, 3.0 * 8 * N};
    printf("{\"copy_gb_s\": %.2f, \"scale_gb_s\": %.2f, \"add_gb_s\": %.2f, "
           "\"triad_gb_s\": %.2f, \"threads\": %d, \"n\": %ld, \"trials\": %d}\n",
           bytes[0] / best[0] / 1e9, bytes[1] / best[1] / 1e9, bytes[2] / best[2] / 1e9,
           bytes[3] / best[3] / 1e9, threads, N, TRIALS);
    return 0;
}
