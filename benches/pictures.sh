#!/usr/bin/env bash
# Side by side: `xmedia render` against chafa on the same JPEGs, into the same 80x40 cells of
# 10x20 pixels, for sixel and kitty (issue 4, "Speed goals"; figures in docs/PERFORMANCE.md).
#
#   benches/pictures.sh                 # interleaved medians, output bytes, pixel boxes, peak RSS
#   RUNS=60 WARMUP=3 benches/pictures.sh
#   SKIP_BUILD=1 benches/pictures.sh    # use the binaries already in target/release
#   SKIP_BUILD=1 XMEDIA=/tmp/xmedia-old benches/pictures.sh   # another build of xmedia
#   SKIP_BUILD=1 BASE=/tmp/xmedia-old benches/pictures.sh     # race it in the same rounds
#
# Needs chafa, python3 and /usr/bin/time (apt-get install -y chafa time).
# With jpegtran (apt-get install -y libjpeg-turbo-progs) each picture is also run as a progressive
# JPEG: `jpegtran -progressive` rewrites the same DCT coefficients in progressive scans, so the
# pixels are identical. PROGRESSIVE=0 leaves them out.
#
# Like for like: chafa sizes its picture from the terminal's cell size in pixels, which it reads
# with TIOCGWINSZ. With stdout redirected it has no terminal and assumes 8x8-pixel cells with a
# 1/2 font ratio (a 1200x900 picture comes out as a squashed 640x240 sixel). So every command
# here runs with stdin on a pseudo-terminal that says 80x40 cells of 800x800 pixels (10x20 a
# cell), and xmedia gets `--cell-px 10x20`: both then draw an 800x600 picture. The script checks
# the pixel size each one wrote (sixel raster attributes `"1;1;W;H`, kitty `s=W,v=H`).
# benches/race.py times the commands in interleaved rounds (see there why not hyperfine), each
# started directly with stdin from the pty.
set -euo pipefail

# Re-run this script with $PTY naming a pseudo-terminal of 80x40 cells, 800x800 pixels, which
# stays open while the script runs; commands read their stdin from it.
if [ -z "${PTY:-}" ]; then
  exec python3 -c '
import fcntl, os, pty, struct, subprocess, sys, termios
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 80, 800, 800))
env = dict(os.environ, PTY=os.ttyname(slave))
sys.exit(subprocess.call(["bash"] + sys.argv[1:], env=env))
' "$0" "$@"
fi

cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-2}
DIR=${DIR:-target/bench-pictures}
OUT=$DIR/out
mkdir -p "$OUT"

echo "== machine"
nproc
grep -m1 'model name' /proc/cpuinfo || true
uptime
chafa --version | head -1

echo "== build"
[ -n "${SKIP_BUILD:-}" ] || cargo build --release --bin xmedia --example bench_pictures
XMEDIA=${XMEDIA:-target/release/xmedia}
[ -f "$DIR/landscape_1200x900.jpg" ] && [ -f "$DIR/landscape_4000x3000.jpg" ] ||
  target/release/examples/bench_pictures "$DIR" 1200x900 4000x3000
PICS="landscape_1200x900 landscape_4000x3000"
if [ "${PROGRESSIVE:-1}" != 0 ] && command -v jpegtran > /dev/null; then
  for size in 1200x900 4000x3000; do
    [ -f "$DIR/progressive_$size.jpg" ] ||
      jpegtran -progressive -copy none "$DIR/landscape_$size.jpg" > "$DIR/progressive_$size.jpg"
  done
  PICS="$PICS progressive_1200x900 progressive_4000x3000"
fi
ls -l "$DIR"/*.jpg

# What pixel box an output file draws.
box() {
  python3 - "$1" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read()
m = re.search(rb'"1;1;(\d+);(\d+)', data)
if m:
    print(f"sixel {int(m[1])}x{int(m[2])}"); sys.exit()
m = re.search(rb"\x1b_G[^;\x1b]*?s=(\d+),v=(\d+)", data)
if m:
    print(f"kitty {int(m[1])}x{int(m[2])}"); sys.exit()
print("?")
PY
}

cmd_xmedia() { echo "$XMEDIA render $1 --cells 80x40 --cell-px 10x20 --graphics $2"; }
cmd_chafa() {
  local f=$2
  [ "$f" = sixel ] && f=sixels
  echo "chafa --size 80x40 --format $f $1"
}

echo "== output bytes and pixel boxes"
printf '%-22s %-6s %-7s %10s  %s\n' picture proto tool bytes box
for name in $PICS; do
  pic=$DIR/$name.jpg
  for proto in sixel kitty; do
    for tool in xmedia chafa; do
      out=$OUT/${tool}_${proto}_$name.out
      $(cmd_$tool "$pic" $proto) < "$PTY" > "$out"
      printf '%-22s %-6s %-7s %10s  %s\n' "$name" "$proto" "$tool" "$(wc -c < "$out")" "$(box "$out")"
    done
  done
done

echo "== wall time (benches/race.py: $RUNS interleaved rounds, $WARMUP warm-up; stdin on the pty)"
# BASE=path/to/another/xmedia races a second build in the same rounds.
for name in $PICS; do
  pic=$DIR/$name.jpg
  for proto in sixel kitty; do
    echo "-- $name $proto"
    set -- "chafa $proto $name=$(cmd_chafa "$pic" $proto)"
    [ -z "${BASE:-}" ] || set -- "$@" "base $proto $name=$(XMEDIA=$BASE cmd_xmedia "$pic" $proto)"
    python3 benches/race.py --runs "$RUNS" --warmup "$WARMUP" --stdin "$PTY" \
      --json "$OUT/race_${proto}_$name.json" \
      "xmedia $proto $name=$(cmd_xmedia "$pic" $proto)" "$@"
  done
done

echo "== peak memory, 4000x3000 to 80x40 cells"
for name in $PICS; do
  case $name in *4000x3000) ;; *) continue ;; esac
  for proto in sixel kitty; do
    /usr/bin/time -v "$XMEDIA" render "$DIR/$name.jpg" --cells 80x40 --cell-px 10x20 \
      --graphics $proto 2>&1 >/dev/null | grep -E 'Maximum resident' | sed "s/^/xmedia $proto $name: /"
    /usr/bin/time -v $(cmd_chafa "$DIR/$name.jpg" $proto) < "$PTY" 2>&1 >/dev/null |
      grep -E 'Maximum resident' | sed "s/^/chafa $proto $name: /"
  done
done
uptime
