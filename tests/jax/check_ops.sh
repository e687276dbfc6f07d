#!/usr/bin/env bash
# Check every tests/jax/*/module.hlo against the opcode / element-type subset Omelet supports,
# and that the ENTRY parameters match in*.npy (count, shape, dtype) as recorded in meta.json.
# Usage: tests/jax/check_ops.sh [DIR]   (default: the directory holding this script)
# Exits 1 listing offenders; prints the set of opcodes seen on success.
set -euo pipefail
DIR="${1:-$(cd "$(dirname "$0")" && pwd)}"
python3 - "$DIR" <<'PY'
import glob, json, os, re, sys
import numpy as np
ALLOWED = set("""parameter constant iota negate abs sign exponential exponential-minus-one log
log-plus-one sqrt rsqrt tanh logistic sine cosine erf floor ceil round-nearest-even not is-finite
convert add subtract multiply divide maximum minimum power remainder and or compare select clamp
broadcast reshape transpose slice concatenate bitcast dot reduce call tuple get-tuple-element""".split())
TYPES = {"f32", "s32", "pred"}
# "[ROOT ]name = TYPE opcode(" where TYPE is a shape or a (possibly nested) tuple of shapes.
INSTR = re.compile(r"^\s*(?:ROOT\s+)?[\w.\-]+\s*=\s*(\(.*?\)|\S+)\s+([a-z][\w\-]*)\(")
files = sorted(glob.glob(os.path.join(sys.argv[1], "*", "module.hlo")))
if not files:
    sys.exit(f"no module.hlo under {sys.argv[1]}")
seen, bad = {}, []
for fn in files:
    case = os.path.basename(os.path.dirname(fn))
    for ln, line in enumerate(open(fn), 1):
        m = INSTR.match(line)
        if not m:
            continue
        ty, op = m.groups()
        seen[op] = seen.get(op, 0) + 1
        if op not in ALLOWED:
            bad.append(f"{case}:{ln}: opcode {op}")
        for t in re.findall(r"\b([a-z]+\d*)\[", ty):
            if t not in TYPES:
                bad.append(f"{case}:{ln}: element type {t}")
        if op == "reduce" and ty.startswith("("):
            bad.append(f"{case}:{ln}: variadic reduce")
    for t in re.findall(r"\b([a-z]+\d*)\[", open(fn).read()):
        if t not in TYPES:
            bad.append(f"{case}: element type {t} in module text")
    # ENTRY parameters vs. inputs (jax.jit prunes unused arguments).
    text = open(fn).read()
    entry = text[text.index("\nENTRY"):]
    params = {int(k): (t, d) for t, d, k in
              re.findall(r"=\s*(\w+)\[([\d,]*)\]\S*\s+parameter\((\d+)\)", entry)}
    meta = json.load(open(os.path.join(os.path.dirname(fn), "meta.json")))
    if sorted(params) != list(range(meta["n_inputs"])):
        bad.append(f"{case}: ENTRY has {len(params)} parameters, meta n_inputs={meta['n_inputs']}")
    else:
        npty = {"float32": "f32", "int32": "s32", "bool": "pred"}
        for k, (t, d) in params.items():
            a = np.load(os.path.join(os.path.dirname(fn), f"in{k}.npy"))
            dims = tuple(int(x) for x in d.split(",") if x)
            if dims != a.shape or npty.get(str(a.dtype)) != t:
                bad.append(f"{case}: parameter {k} is {t}{list(dims)} but in{k}.npy is {a.dtype}{list(a.shape)}")
    size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(os.path.dirname(fn), "*")))
    if size > 100 * 1024:
        bad.append(f"{case}: fixture is {size} bytes (> 100 KiB)")
if bad:
    print("\n".join(sorted(set(bad))))
    sys.exit(1)
print(f"OK: {len(files)} modules; opcodes seen:")
print(" ".join(f"{k}({v})" for k, v in sorted(seen.items())))
PY
