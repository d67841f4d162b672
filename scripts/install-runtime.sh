#!/usr/bin/env bash
# Installs the real Reactor runtime (PyPI `reactor-runtime` 2.10.1) that
# tests/runtime/ drives, idempotently: under a second when it is all there.
#   scripts/install-runtime.sh          install what is missing, then check it
#   scripts/install-runtime.sh --print  print the venv's python (for scripts)
# Where: $REACTOR_RUNTIME_VENV, default ~/.cache/reactor-runtime-2.10.1 (outside
# the repo: one install serves every clone on the machine).
#
# Why each part:
# - Debian GStreamer (+ plugins, libnice, the GObject bindings' typelibs): the
#   runtime builds its WebRTC media pipeline with GStreamer's webrtcbin.
# - Debian python3-gi: the runtime's PyGObject requirement (>= 3.56) is only an
#   sdist needing a newer GLib than Debian 12 has; Debian's 3.42 works, and it
#   loads only in CPython 3.11, hence a 3.11 venv and a .pth that shows the venv
#   Debian's `gi` (and nothing else of Debian's dist-packages).
# - The runtime's declared dependencies except PyGObject, then the runtime with
#   --no-deps (so pip never tries to build PyGObject).
set -euo pipefail
VERSION=2.10.1
VENV=${REACTOR_RUNTIME_VENV:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/reactor-runtime-$VERSION}
if [ "${1:-}" = --print ]; then
  echo "$VENV/bin/python"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
say() { printf -- '----- install-runtime: %s\n' "$*"; }

APT=(gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-nice gstreamer1.0-tools
  gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-plugins-bad-1.0
  python3-gi python3.11 python3.11-venv)
PIP=('numpy>=2.0.0' 'pydantic>=2.13.0' 'omegaconf>=2.3.0' 'fastapi>=0.136.1'
  'uvicorn[standard]>=0.47.0' 'aiohttp>=3.13.0' 'httpx>=0.28.0' 'redis>=7.0.0'
  'jsonschema>=4.26.0' 'opentelemetry-api~=1.42' 'opentelemetry-sdk~=1.42'
  'opentelemetry-exporter-otlp-proto-http~=1.42' 'opentelemetry-exporter-prometheus~=0.63b0'
  'grpcio>=1.80.0' 'grpcio-health-checking>=1.80.0' 'opentelemetry-instrumentation-grpc~=0.63b0'
  'pynvml>=11.5' pyyaml)

missing=()
for p in "${APT[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Debian's interpreter, the one its python3-gi was built for.
PY311=/usr/bin/python3.11
if [ ! -x "$VENV/bin/python" ]; then
  say "venv $VENV"
  "$PY311" -m venv "$VENV"
fi
PY=$VENV/bin/python
installed=$("$PY" -c 'import importlib.metadata as m; print(m.version("reactor-runtime"))' 2>/dev/null || true)
if [ "$installed" != "$VERSION" ]; then
  say "pip install the runtime's dependencies (without PyGObject), then reactor-runtime==$VERSION --no-deps"
  "$PY" -m pip install -q "${PIP[@]}"
  "$PY" -m pip install -q --no-deps "reactor-runtime==$VERSION"
fi

# Debian's gi, alone, on the venv's path.
site=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
gi_dir=$(dirname "$(dpkg -L python3-gi | grep '/gi/__init__.py$' | head -n1)")
link_dir=$VENV/debian-gi
if [ "$(readlink "$link_dir/gi" 2>/dev/null)" != "$gi_dir" ] || [ ! -f "$site/debian-gi.pth" ]; then
  mkdir -p "$link_dir"
  ln -sfn "$gi_dir" "$link_dir/gi"
  echo "$link_dir" >"$site/debian-gi.pth"
fi

# The runtime refuses to serve without these GStreamer elements: fail here,
# with their names, rather than in the middle of a test.
"$PY" - <<'PY'
import importlib.metadata as m
from reactor_runtime.transports.config import _check_gstreamer_elements
missing = _check_gstreamer_elements()
if missing:
    raise SystemExit(f"install-runtime: GStreamer elements missing: {missing}")
print(f"----- install-runtime: reactor-runtime {m.version('reactor-runtime')} ready")
PY
