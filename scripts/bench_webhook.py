"""Load benchmark of ``POST /v1/fallback`` over loopback HTTP (outside CI).

Starts ``backstop serve`` the way ``bash scripts/setup.sh serve`` does (same environment, demo answers
seeded, SQLite in a fresh temporary data dir), warms it, then drives it with ``wrk`` from a second
process at each fixed offered rate and prints a JSON summary and a markdown table. The server is
stopped at the end, whatever happens.

    python scripts/bench_webhook.py --rates 100,250,500,1000 --duration 20 --workers 1

Query mix (real data): fresh distinct queries from SMP2017-ECDT task 1, CrossWOZ requests and LCQMC
questions (mostly unanswered: they go to handoff / a review candidate), the demo answers' questions
and keys (answered), and exact repeats of queries already sent in the same run. Every request has
its own conversation_id/message_id, so none is answered by the idempotent replay. Fresh queries are
never reused across the rates of one invocation. What the server actually did (actions, share served
from the exact-repeat cache, its own latency) is read back from the event log after each rate.

Needs ``wrk`` (Debian: ``apt-get install -y wrk``) and, for ``--profile``, ``py-spy``. Talks to
127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LUA = ROOT / "scripts" / "bench_webhook.lua"
DATASETS = Path(os.environ.get("BACKSTOP_DATASETS", "/work/shared/datasets"))
TOKEN = "bench-token-0123456789abcdef"
HOST = "127.0.0.1"  # never anything else


# ------------------------------------------------------------------------------------------ query mix
def _read_texts(path: Path, fields: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    if not path.exists():
        return out
    with path.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            out.extend(str(row[k]).strip() for k in fields if row.get(k))
    return out


def demo_queries() -> list[str]:
    """The demo answers' questions and keys (these get ``answer``)."""
    sys.path.insert(0, str(ROOT))
    from fallback.demo import DEMO

    return [q for question, _text, keys, _safe in DEMO for q in (question, *keys)]


def fresh_pool(seed: int) -> list[str]:
    """Distinct real queries, shuffled, interleaving the three sources so every slice has all three."""
    sources = [
        _read_texts(DATASETS / "smp2017_ecdt" / "smp2017_ecdt_task1.jsonl", ("text",)),
        _read_texts(DATASETS / "crosswoz_request" / "crosswoz_request.jsonl", ("text",)),
        _read_texts(DATASETS / "lcqmc" / "lcqmc.jsonl", ("q1", "q2")),
    ]
    rng = random.Random(seed)
    demo = set(demo_queries())
    seen: set[str] = set()
    per_source: list[list[str]] = []
    for texts in sources:
        uniq = [t for t in dict.fromkeys(texts) if t and t not in demo and len(t) <= 200]
        rng.shuffle(uniq)
        per_source.append(uniq)
    smp, crosswoz, lcqmc = per_source
    # round-robin smp : crosswoz : lcqmc at 1 : 1 : 2, so every slice of the pool has all three
    streams = [iter(smp), iter(crosswoz), iter(lcqmc[0::2]), iter(lcqmc[1::2])]
    pool: list[str] = []
    while streams:
        for it in list(streams):
            t = next(it, None)
            if t is None:
                streams.remove(it)
            elif t not in seen:
                seen.add(t)
                pool.append(t)
    if not pool:
        raise SystemExit(f"no queries found under {DATASETS}")
    return pool


@dataclass
class Mix:
    """Draws each run's sequence: repeats of this run's earlier queries, demo questions, fresh ones."""

    pool: list[str]
    demo: list[str]
    repeat_share: float = 0.3
    demo_share: float = 0.1
    seed: int = 0
    _next_fresh: int = 0
    wrapped: int = 0  # times the fresh pool ran out and restarted (reported)

    def sequence(self, n: int, salt: int) -> tuple[list[str], dict[str, int]]:
        rng = random.Random(self.seed * 1_000_003 + salt)
        out: list[str] = []
        kinds = {"repeat": 0, "demo": 0, "fresh": 0}
        for _ in range(n):
            r = rng.random()
            if out and r < self.repeat_share:
                out.append(out[rng.randrange(len(out))])
                kinds["repeat"] += 1
            elif r < self.repeat_share + self.demo_share:
                out.append(rng.choice(self.demo))
                kinds["demo"] += 1
            else:
                if self._next_fresh >= len(self.pool):
                    self._next_fresh = 0
                    self.wrapped += 1
                out.append(self.pool[self._next_fresh])
                self._next_fresh += 1
                kinds["fresh"] += 1
        return out, kinds


def write_queries(path: Path, queries: list[str]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for q in queries:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")


# ------------------------------------------------------------------------------------------ server
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def pids(self) -> list[int]:
        """The server process and its children (uvicorn workers)."""
        pids = [self.proc.pid]
        with contextlib.suppress(OSError):
            for p in Path("/proc").iterdir():
                if p.name.isdigit():
                    try:
                        ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    except (OSError, IndexError, ValueError):
                        continue
                    if ppid == self.proc.pid:
                        pids.append(int(p.name))
        return pids

    def cpu_seconds(self) -> float:
        return self._cpu(lambda pid: f"/proc/{pid}/stat")

    def loop_cpu_seconds(self) -> float:
        """CPU of the processes' main threads (the thread id equals the process id): in a uvicorn
        worker that is the event loop (HTTP, the webhook fast path); the rest is the dispatcher and
        background threads."""
        return self._cpu(lambda pid: f"/proc/{pid}/task/{pid}/stat")

    def _cpu(self, stat_file: Callable[[int], str]) -> float:
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(stat_file(pid)).read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def start_server(args: argparse.Namespace, data_dir: Path, workers: int) -> Server:
    port = args.port or free_port()
    env = dict(os.environ)
    env.update({
        # what scripts/setup.sh serve exports
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
        "BACKSTOP_SEED_DEMO": "true",
        "BACKSTOP_DATA_DIR": str(data_dir),
        "BACKSTOP_SERVER__HOST": HOST,
        "BACKSTOP_SERVER__PORT": str(port),
        "BACKSTOP_AUTH__SERVICE_TOKENS": json.dumps([TOKEN]),
    })
    for kv in args.env:
        k, _, v = kv.partition("=")
        env[k] = v
    if args.gc_log:
        probe = data_dir / "gcprobe"
        probe.mkdir(exist_ok=True)
        (probe / "sitecustomize.py").write_text(GC_PROBE, encoding="utf-8")
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(probe), env.get("PYTHONPATH", "")) if p)
        env["BACKSTOP_BENCH_GC_DIR"] = str(data_dir)
    if args.launcher == "setup.sh":
        cmd = ["bash", str(ROOT / "scripts" / "setup.sh"), "serve", "--workers", str(workers)]
    else:
        cmd = [str(Path(sys.executable).parent / "backstop"), "serve", "--workers", str(workers)]
    log_path = data_dir / f"server-w{workers}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    server = Server(proc, port, data_dir, log_path)
    deadline = time.monotonic() + args.start_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; log:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/readyz", timeout=2) as r:
                if r.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"server not ready after {args.start_timeout}s; log:\n{log_path.read_text()[-3000:]}")


# ------------------------------------------------------------------------------------------ wrk
def run_wrk(args: argparse.Namespace, server: Server, queries_file: Path, rate: int, duration: float,
            run_id: str) -> dict[str, Any]:
    conns = args.connections or max(16, min(512, rate // 5))
    threads = min(args.wrk_threads, conns)
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration:g}s", f"--timeout={args.timeout:g}s",
           "-s", str(LUA), f"{server.url}/v1/fallback", "--", str(queries_file), str(rate), TOKEN, run_id,
           str(threads)]
    # wrk stops itself after -d; the outer timeout only bounds a hang
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + args.timeout + 30,
                         check=False)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr[-2000:]}\n{out.stdout[-2000:]}")
    res: dict[str, Any] = json.loads(line.split(" ", 1)[1])
    res.update({"connections": conns, "wrk_threads": threads, "command": " ".join(cmd)})
    return res


def server_side(data_dir: Path, run_id: str) -> dict[str, Any]:
    """What the service logged for this run's calls (read-only; the server keeps running)."""
    con = sqlite3.connect(f"file:{data_dir / 'backstop.db'}?mode=ro", uri=True, timeout=30)
    try:
        rows = con.execute("SELECT action, cached, latency_ms FROM events WHERE conversation_id LIKE ?",
                           (f"c-{run_id}-%",)).fetchall()
        pending = con.execute("SELECT count(*) FROM candidates WHERE status = 'pending'").fetchone()[0]
    finally:
        con.close()
    if not rows:
        return {"events": 0, "pending_candidates": pending}
    acts: dict[str, int] = {}
    for a, _, _ in rows:
        acts[a] = acts.get(a, 0) + 1
    lat = sorted(float(r[2] or 0.0) for r in rows)
    q = statistics.quantiles(lat, n=100, method="inclusive") if len(lat) > 1 else [lat[0]] * 99
    cached = sum(bool(r[1]) for r in rows) / len(rows)
    return {"events": len(rows), "actions": acts, "cached_share": round(cached, 3),
            "pending_candidates": pending,
            "service_ms": {"p50": round(q[49], 2), "p95": round(q[94], 2), "p99": round(q[98], 2)}}


# Imported by every server process when --gc-log puts its folder first on PYTHONPATH: appends
# "<epoch> <generation> <ms>" per collection to gc-<pid>.log in BACKSTOP_BENCH_GC_DIR.
GC_PROBE = """\
import gc, os, time
_dir = os.environ.get("BACKSTOP_BENCH_GC_DIR")
if _dir:
    _started = [0.0]
    _out = open(os.path.join(_dir, f"gc-{os.getpid()}.log"), "a", buffering=1)
    def _backstop_bench_gc(phase, info):
        if phase == "start":
            _started[0] = time.perf_counter()
            return
        ms = (time.perf_counter() - _started[0]) * 1000
        _out.write(f"{time.time():.4f} {info['generation']} {ms:.3f}\\n")
    gc.callbacks.append(_backstop_bench_gc)
"""


def gc_pauses(data_dir: Path, since: float, until: float) -> dict[str, Any]:
    """The server processes' collections between two wall-clock times (see ``GC_PROBE``)."""
    pauses: list[tuple[int, float]] = []
    processes = 0
    for path in sorted(data_dir.glob("gc-*.log")):
        seen = False
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                at, gen, ms = line.split()
                if since <= float(at) <= until:
                    pauses.append((int(gen), float(ms)))
                    seen = True
        processes += seen
    full = [ms for gen, ms in pauses if gen == 2]
    return {"processes": processes, "passes": len(pauses), "max_ms": round(max((ms for _, ms in pauses),
            default=0.0), 1), "total_ms": round(sum(ms for _, ms in pauses), 1),
            "full_passes": len(full), "full_max_ms": round(max(full, default=0.0), 1)}


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


@contextlib.contextmanager
def profiler(args: argparse.Namespace, server: Server, rate: int, duration: float) -> Iterator[Path | None]:
    if not args.profile or rate not in args.profile_rates:
        yield None
        return
    out_dir = Path(args.profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = {"speedscope": "json", "flamegraph": "svg", "raw": "txt"}[args.profile_format]
    target = out_dir / f"pyspy-w{args.workers}-r{rate}.{suffix}"
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    cmd = [spy, "record", "--pid", str(server.proc.pid), "--subprocesses", "--rate", "50", "--nonblocking",
           "--duration", str(int(duration)), "--format", args.profile_format, "--output", str(target)]
    if args.profile_idle:
        cmd.append("--idle")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield target
    finally:
        try:
            proc.wait(duration + 30)
        except subprocess.TimeoutExpired:
            proc.kill()


# ------------------------------------------------------------------------------------------ main
def fmt_table(results: list[dict[str, Any]], p99_goal_ms: float) -> str:
    head = ("| offered req/s | achieved req/s | P50 ms | P95 ms | P99 ms | max ms | errors | late sends "
            "| answer / review / handoff | cached | server CPU | CPU ms/req (event loops) | verdict |")
    lines = [head, "|" + "---|" * 13]
    for r in results:
        acts = r["server"].get("actions", {})
        verdict = ("saturated" if r["saturated"] else
                   "ok" if r["p99_ms"] <= p99_goal_ms else f"P99 > {p99_goal_ms:g} ms")
        lines.append(
            f"| {r['rate']} | {r['throughput']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
            f"| {r['p99_ms']:.1f} "
            f"| {r['max_ms']:.0f} | {r['errors']} | {r['late_share'] * 100:.1f}% "
            f"| {acts.get('answer', 0)} / {acts.get('pending_review', 0)} / {acts.get('handoff', 0)} "
            f"| {r['server'].get('cached_share', 0) * 100:.0f}% | {r['server_cpu']:.2f} cores "
            f"| {1000 * r['server_cpu'] / max(r['throughput'], 1e-9):.1f} "
            f"({r.get('loop_cpu_ms_per_request', 0):.1f}) | {verdict} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="100,250,500,1000", help="Offered loads, req/s (comma separated).")
    ap.add_argument("--duration", type=float, default=20.0, help="Seconds per rate (bounded: at most 120).")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (serve --workers).")
    ap.add_argument("--connections", type=int, default=0, help="wrk connections (default rate/5, 16..512).")
    ap.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (it shares the 2 cores).")
    ap.add_argument("--timeout", type=float, default=5.0, help="wrk per-request timeout, s.")
    ap.add_argument("--warmup", type=float, default=8.0, help="Seconds of warm-up load at --warmup-rate.")
    ap.add_argument("--warmup-rate", type=int, default=100)
    ap.add_argument("--pause", type=float, default=3.0, help="Idle seconds between rates.")
    ap.add_argument("--repeat-share", type=float, default=0.3, help="Share of exact repeats within a run.")
    ap.add_argument("--demo-share", type=float, default=0.1, help="Share of demo questions/keys (answered).")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--port", type=int, default=0, help="Default: a free port.")
    ap.add_argument("--launcher", choices=["backstop", "setup.sh"], default="backstop",
                    help="'backstop' runs .venv/bin/backstop serve with setup.sh's environment; 'setup.sh' "
                         "runs bash scripts/setup.sh serve (installs first if its stamp is missing).")
    ap.add_argument("--env", action="append", default=[], metavar="K=V",
                    help="Extra server environment, e.g. BACKSTOP_GATING__CACHE_SIZE=0 (repeatable).")
    ap.add_argument("--start-timeout", type=float, default=120.0)
    ap.add_argument("--p99-goal-ms", type=float, default=100.0)
    ap.add_argument("--max-load", type=float, default=0.0,
                    help="Wait (up to 10 min) until the 1-min load average is below this before each rate.")
    ap.add_argument("--profile", default="", help="Folder for py-spy recordings of the server.")
    ap.add_argument("--profile-rates", default="", help="Rates to profile (default: all).")
    ap.add_argument("--profile-format", choices=["flamegraph", "speedscope", "raw"], default="raw")
    ap.add_argument("--profile-idle", action="store_true")
    ap.add_argument("--gc-log", action="store_true",
                    help="Log every garbage collection of the server's processes (a sitecustomize on their "
                         "PYTHONPATH) and report the pauses per rate.")
    ap.add_argument("--keep-data", action="store_true", help="Keep the temporary data dir (server log, DB).")
    ap.add_argument("--json-out", default="", help="Also write the JSON summary here.")
    args = ap.parse_args(argv)

    rates = [int(r) for r in args.rates.split(",") if r.strip()]
    args.profile_rates = [int(r) for r in args.profile_rates.split(",") if r.strip()] or rates
    duration = min(max(args.duration, 1.0), 120.0)
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2

    data_dir = Path(tempfile.mkdtemp(prefix="backstop-bench-"))
    mix = Mix(fresh_pool(args.seed), demo_queries(), args.repeat_share, args.demo_share, args.seed)
    nonce = f"{int(time.time())}{os.getpid() % 1000:03d}"
    results: list[dict[str, Any]] = []
    server: Server | None = None
    t_start = time.monotonic()
    try:
        if args.workers > 1:
            # Each worker seeds an empty database on start and they race (both insert the demo
            # answers), so seed once with a single worker first; the N workers then find it seeded.
            start_server(args, data_dir, 1).stop()
        server = start_server(args, data_dir, args.workers)
        startup_s = time.monotonic() - t_start
        print(f"server up on {server.url} in {startup_s:.1f}s (pids {server.pids()}), data {data_dir}",
              file=sys.stderr)
        if args.warmup > 0:
            seq, _ = mix.sequence(int(args.warmup_rate * args.warmup * 1.5) + 100, salt=0)
            qf = data_dir / "queries-warmup.txt"
            write_queries(qf, seq)
            run_wrk(args, server, qf, args.warmup_rate, args.warmup, f"{nonce}w")
            time.sleep(args.pause)
        for i, rate in enumerate(rates, start=1):
            if args.max_load:
                waited = time.monotonic()
                while loadavg() >= args.max_load and time.monotonic() - waited < 600:
                    time.sleep(5)
            # enough for the run plus slack; the Lua script wraps around if wrk sends more
            seq, kinds = mix.sequence(int(rate * duration * 1.3) + 100, salt=i)
            qf = data_dir / f"queries-{rate}.txt"
            write_queries(qf, seq)
            run_id = f"{nonce}r{rate}"
            load_before = loadavg()
            cpu0, loop0 = server.cpu_seconds(), server.loop_cpu_seconds()
            t0, epoch0 = time.monotonic(), time.time()
            with profiler(args, server, rate, duration) as prof:
                w = run_wrk(args, server, qf, rate, duration, run_id)
            wall = time.monotonic() - t0
            gc_seen = gc_pauses(data_dir, epoch0, time.time()) if args.gc_log else None
            cpu = (server.cpu_seconds() - cpu0) / wall
            loop_cpu = (server.loop_cpu_seconds() - loop0) / wall
            if server.proc.poll() is not None:
                tail = server.log_path.read_text()[-3000:]
                raise RuntimeError(f"server died during rate {rate}; log:\n{tail}")
            time.sleep(1.0)  # let in-flight calls finish logging
            ss = server_side(data_dir, run_id)
            secs = w["duration_us"] / 1e6
            errors = sum(w["errors"].values())
            throughput = w["requests"] / secs
            late_share = w["late_sends"] / max(1, w["sent"])
            rec = {
                "rate": rate, "duration_s": round(secs, 2), "requests": w["requests"],
                "throughput": round(throughput, 1),
                "p50_ms": w["latency_us"]["p50"] / 1000, "p95_ms": w["latency_us"]["p95"] / 1000,
                "p99_ms": w["latency_us"]["p99"] / 1000, "max_ms": w["latency_us"]["max"] / 1000,
                "mean_ms": round(w["latency_us"]["mean"] / 1000, 2),
                "cpu_ms_per_request": round(1000 * cpu / max(throughput, 1e-9), 2),
                "loop_cpu_ms_per_request": round(1000 * loop_cpu / max(throughput, 1e-9), 2),
                "errors": errors, "error_detail": w["errors"], "late_share": round(late_share, 4),
                "late_max_ms": round(w["late_max_us"] / 1000, 1),
                "responses": w["actions"], "server": ss, "server_cpu": round(cpu, 2),
                "loadavg_before": load_before, "loadavg_after": loadavg(),
                "sequence_mix": kinds, "connections": w["connections"], "wrk_threads": w["wrk_threads"],
                "wrk_command": w["command"], "profile": str(prof) if prof else None, "gc": gc_seen,
                # saturated: fell behind the schedule, or could not keep up, or failed calls
                "saturated": bool(late_share > 0.01 or throughput < 0.95 * rate or errors > 0),
            }
            results.append(rec)
            print(f"rate {rate}: {throughput:.0f} req/s, p50 {rec['p50_ms']:.1f} p95 {rec['p95_ms']:.1f} "
                  f"p99 {rec['p99_ms']:.1f} ms, errors {errors}, late {late_share:.1%}, cpu {cpu:.2f}, "
                  f"load {load_before:.2f}->{rec['loadavg_after']:.2f}"
                  + (f", gc max {gc_seen['max_ms']} ms ({gc_seen['full_passes']} full passes, "
                     f"longest {gc_seen['full_max_ms']} ms)" if gc_seen else ""), file=sys.stderr)
            time.sleep(args.pause)
    finally:
        if server is not None:
            server.stop()
        if not args.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)

    ok = [r for r in results if not r["saturated"] and r["p99_ms"] <= args.p99_goal_ms]
    summary = {
        "workers": args.workers, "duration_s": duration, "launcher": args.launcher, "env": args.env,
        "repeat_share": args.repeat_share, "demo_share": args.demo_share, "seed": args.seed,
        "pool_size": len(mix.pool), "pool_wrapped": mix.wrapped,
        "cpu_model": _cpu_model(), "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d"),
        "data_dir": str(data_dir) if args.keep_data else None,
        "max_rate_meeting_goal": max((r["rate"] for r in ok), default=None),
        "results": results,
    }
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n", encoding="utf-8")
    print()
    print(fmt_table(results, args.p99_goal_ms))
    return 0


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
