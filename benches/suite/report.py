#!/usr/bin/env python3
"""Markdown table of Omelet against its CPU peers for the benchmark suite.

Usage:
  target/release/omelet bench benches/suite/*.om --backends cpu --json --random 0 > omelet.json
  python3 benches/suite/peers.py > peers.json
  python3 benches/suite/report.py omelet.json peers.json [--backend cpu] > table.md
Omelet's programs map to peer cases by file stem (benches/suite/gemm.om -> gemm). GB/s
(memory-bound programs) and GFLOP/s (GEMM programs: the suite's, and those a peers
document marks "bound": "gemm", as benches/types/peers.py does) are Omelet's, from the minimum bytes
(all inputs plus all outputs) and the flops of XLA's cost analysis that peers.py records,
falling back to Omelet's own estimates; they are set against the STREAM triad and NumPy
SGEMM (1024^3) measured by peers.py. Then the geometric mean of Omelet/XLA time, and the
compile times.
"""
import argparse, json, math, os

MEMORY = ["ew_chain", "softmax", "layernorm", "col_reduce", "transpose_add"]
GEMM = ["mlp", "attention", "gemm", "gemm_nt", "linreg_grad"]

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("omelet_json")
    ap.add_argument("peers_json")
    ap.add_argument("--backend", help="Omelet backend to report (default: cpu if present, else the first)")
    o = ap.parse_args()
    om, peers = json.load(open(o.omelet_json)), json.load(open(o.peers_json))
    backends = [r["backend"] for r in om["results"]]
    backend = o.backend or ("cpu" if "cpu" in backends else backends[0])
    mine = {os.path.splitext(os.path.basename(r["program"]))[0]: r
            for r in om["results"] if r["backend"] == backend}
    peer = {(r["program"], r["peer"]): r for r in peers["results"]}
    progs = peers.get("programs", {})
    triad = (peers.get("stream") or {}).get("triad_gb_s")
    sgemm = peers.get("numpy_sgemm_gflops")
    noisy = [r for r in peers["results"] if r.get("other_load", 0) > 0.1]
    ms = lambda r: f"{r['median_s'] * 1e3:.2f}{'†' if r.get('other_load', 0) > 0.1 else ''}" if r else "–"
    # The suite's order, then the other programs in the peers' order.
    order = list(dict.fromkeys(n for n in MEMORY + GEMM + list(progs) if n in mine))
    order += sorted(n for n in mine if n not in order)
    print(f"| program | Omelet ({backend}) ms | XLA ms | NumPy ms | Omelet/XLA | GB/s or GFLOP/s | % of ceiling |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    ratios = []
    for n in order:
        r, x, p = mine[n], peer.get((n, "xla")), peer.get((n, "numpy"))
        ratio = r["median_s"] / x["median_s"] if x else None
        if ratio:
            ratios.append(ratio)
        info = progs.get(n, {})
        if n in GEMM or info.get("bound") == "gemm":
            rate = info["flops"] / r["median_s"] / 1e9 if info.get("flops") else r["gflop_per_s"]
            rate_s, ceil = f"{rate:.1f} GFLOP/s", (f"{100 * rate / sgemm:.0f}% of SGEMM" if sgemm else "–")
        else:
            rate = info["min_bytes"] / r["median_s"] / 1e9 if info.get("min_bytes") else r["gb_per_s"]
            rate_s, ceil = f"{rate:.1f} GB/s", (f"{100 * rate / triad:.0f}% of triad" if triad else "–")
        print(f"| {n} | {ms(r)} | {ms(x)} | {ms(p)} | {f'{ratio:.2f}×' if ratio else '–'} | {rate_s} | {ceil} |")
    print()
    if ratios:
        gm = math.exp(sum(map(math.log, ratios)) / len(ratios))
        print(f"Geometric mean of Omelet/XLA time over {len(ratios)} programs: **{gm:.2f}×** (below 1 is faster than XLA).")
        print()
    st = peers.get("stream") or {}
    print(f"Ceilings on {peers.get('cpu', '?')} ({peers.get('cores', '?')} cores): STREAM triad "
          + (f"{triad:.1f} GB/s ({st.get('threads')} threads)" if triad else st.get("error", "not measured"))
          + (f", NumPy SGEMM 1024³ {sgemm:.0f} GFLOP/s" if sgemm else "")
          + f"; JAX {peers.get('jax_version', '?')}, NumPy {peers.get('numpy_version', '?')}."
          + " Times are medians after a warm-up, compilation excluded; GB/s counts the minimum"
          + " bytes (inputs plus outputs once), GFLOP/s the flops of XLA's cost analysis.")
    busy = peers.get("other_load", 0)
    if busy > 0.1 or noisy:
        print(f"**Warning:** other processes used {busy:.2f} cores on average during the peers' run"
              + (f" and disturbed {len(noisy)} peer timings (marked †)" if noisy else "")
              + ": rerun on a quiet machine.")
    print()
    print("| program | Omelet compile ms | XLA compile ms |")
    print("| --- | ---: | ---: |")
    for n in order:
        x = peer.get((n, "xla"))
        xc = f"{x['compile_s'] * 1e3:.1f}" if x and "compile_s" in x else "–"
        print(f"| {n} | {mine[n]['compile_s'] * 1e3:.1f} | {xc} |")

if __name__ == "__main__":
    main()
