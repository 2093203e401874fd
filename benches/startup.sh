#!/usr/bin/env bash
# Startup to first frame of `xmedia --demo`, run N times in a pseudo-terminal (160x48).
#
#   cargo build --release && benches/startup.sh          # N=20 by default
#   N=50 XMEDIA_BIN=target/release/xmedia benches/startup.sh
#
# Two views of each run:
#   in-process  what the binary logs with XMEDIA_TRACE_STARTUP=1: from the top of `main` until
#               the first frame (a loading screen), and the first frame with tweets, were written;
#   observed    from just before fork/exec until this script reads the frame from the pty
#               (" Media " = the first frame, the first "♥" of a row's metrics = tweets are on
#               screen; ratatui writes only changed cells, so titles are no marker); this adds
#               exec, dynamic loading and the pty round trip.
# The pty answers the cursor-position query (ESC[6n) the way a real terminal does.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${XMEDIA_BIN:-target/release/xmedia}
N=${N:-20}
[ -x "$BIN" ] || { echo "no $BIN: run cargo build --release first" >&2; exit 1; }
exec python3 - "$BIN" "$N" <<'PY'
import fcntl, os, pty, re, select, signal, statistics, struct, sys, tempfile, termios, time

bin_path, runs = sys.argv[1], int(sys.argv[2])
COLS, ROWS = 160, 48
CSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]")

def one_run(tmp, i):
    log = os.path.join(tmp, f"log{i}")
    env = dict(os.environ, XMEDIA_TRACE_STARTUP="1", XMEDIA_LOG_FILE=log,
               XMEDIA_CONFIG=os.path.join(tmp, "none.toml"), TERM="xterm-256color")
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        os.execve(bin_path, [bin_path, "--demo"], env)
    out, seen = b"", {}
    deadline = t0 + 20
    while "tweets" not in seen and time.perf_counter() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        now = time.perf_counter()
        queries = chunk.count(b"\x1b[6n")
        if queries:
            os.write(fd, b"\x1b[1;1R" * queries)
        out += chunk
        text = CSI.sub(b"", out)
        if "frame" not in seen and b" Media " in text:
            seen["frame"] = (now - t0) * 1e3
        if "frame" in seen and "♥".encode() in text:
            seen["tweets"] = (now - t0) * 1e3
    os.write(fd, b"q")
    end = time.time() + 5
    while time.time() < end:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        try:
            select.select([fd], [], [], 0.05) and os.read(fd, 65536)
        except OSError:
            pass
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(fd)
    logged = {}
    with open(log) as f:
        for line in f:
            m = re.search(r"startup: first frame (with tweets )?after ([0-9.]+) ms", line)
            if m:
                logged["tweets" if m.group(1) else "frame"] = float(m.group(2))
    return logged, seen

rows = {k: [] for k in ("logged frame", "logged tweets", "observed frame", "observed tweets")}
with tempfile.TemporaryDirectory() as tmp:
    for i in range(runs):
        logged, seen = one_run(tmp, i)
        for kind in ("frame", "tweets"):
            if kind in logged:
                rows[f"logged {kind}"].append(logged[kind])
            if kind in seen:
                rows[f"observed {kind}"].append(seen[kind])

names = {
    "logged frame": "in-process: first frame",
    "logged tweets": "in-process: first frame with tweets",
    "observed frame": "observed:   first frame",
    "observed tweets": "observed:   first frame with tweets",
}
print(f"xmedia --demo startup, {COLS}x{ROWS} pty, {runs} runs ({bin_path})")
for key, label in names.items():
    v = sorted(rows[key])
    if not v:
        print(f"  {label:<38} no data")
        continue
    print(f"  {label:<38} min {v[0]:6.1f} ms   median {statistics.median(v):6.1f} ms   "
          f"max {v[-1]:6.1f} ms   (n={len(v)})")
PY
