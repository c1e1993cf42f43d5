"""Download rows of the benchmark: a 1 GiB file fetched to disk, assay against curl.

nginx (one worker, sendfile) serves a sparse 1 GiB file on loopback; assay fetches it with
`http.get(url, {output = path})` (streamed to a temp file and renamed, never in Lua memory)
and curl with `curl -s -o path`. Rounds alternate (assay, curl, ...); MB/s are medians of the
wall time of each whole run (process start to exit), the ratio the median of per-round ratios
(assay / curl); assay's peak RSS is GNU time's %M, the largest of its rounds.

Used by bench.py (standard library only).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from local_server import BenchError, find_nginx, start_nginx

SIZE = 1 << 30
CHILD_TIMEOUT_S = 300

ASSAY_FETCH = """
local url, path = arg[1], arg[2]
local r = http.get(url, {output = path, timeout = 600})
if r.status ~= 200 or r.bytes ~= tonumber(arg[3]) then
  error("download failed: status " .. r.status .. ", " .. tostring(r.bytes) .. " bytes")
end
"""


@dataclass
class DownloadResult:
    assay_mb_s: float
    curl_mb_s: float
    ratio: float
    assay_peak_mib: float
    rounds: int
    curl_version: str

    def rows(self) -> list[list[str]]:
        return [
            ["metric", "assay", "curl", "ratio", "goal", "meets goal"],
            ["1 GiB download to a file (MB/s)", f"{self.assay_mb_s:.0f}",
             f"{self.curl_mb_s:.0f}", f"{self.ratio:.2f}", ">= 0.90",
             "yes" if self.ratio >= 0.9 else "NO"],
            ["assay peak RSS during it (MiB)", f"{self.assay_peak_mib:.1f}", "", "", "", ""],
        ]

    def notes(self) -> list[str]:
        return [f"download: {self.rounds} round(s), alternating, nginx (sendfile) on loopback "
                f"serving a sparse 1 GiB file; {self.curl_version}; MB = 1e6 bytes; wall "
                f"time of each whole process."]


def _nginx() -> str:
    nginx = find_nginx()
    if not nginx:
        raise BenchError("nginx is needed for the download benchmark (apt-get install nginx)")
    return nginx


def bench_download(assay: Path, lib_path: Path, rounds: int, log) -> DownloadResult:
    curl = shutil.which("curl")
    gnu_time = Path("/usr/bin/time")
    if not curl or not gnu_time.exists():
        raise BenchError("curl and GNU time are needed for the download benchmark")
    nginx = _nginx()
    with tempfile.TemporaryDirectory(prefix="assay-bench-download-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "www").mkdir()
        with open(tmp / "www" / "big.bin", "wb") as big:
            big.truncate(SIZE)
        # nginx's worker drops to an unprivileged user when started as root.
        for path, mode in ((tmp, 0o755), (tmp / "www", 0o755), (tmp / "www" / "big.bin", 0o644)):
            path.chmod(mode)
        script = tmp / "fetch.lua"
        script.write_text(ASSAY_FETCH)
        server, port = start_nginx(nginx, tmp, "    sendfile on;", f"root {tmp}/www;")
        try:
            url = f"http://127.0.0.1:{port}/big.bin"
            out = tmp / "out.bin"
            env = dict(os.environ, ASSAY_LIB_PATH=str(lib_path))
            assay_rates, curl_rates, ratios, peaks = [], [], [], []
            # One untimed fetch by each first: the first run on a cold machine was 5x slower
            # (185 MB/s against about 1,100), and assay, going first, paid for it alone.
            for argv in ([str(assay), str(script), url, str(out), str(SIZE)],
                         [curl, "-s", "-o", str(out), url]):
                subprocess.run(argv, capture_output=True, env=env, timeout=CHILD_TIMEOUT_S)
                out.unlink(missing_ok=True)
            for i in range(rounds):
                started = time.monotonic()
                done = subprocess.run([str(gnu_time), "-f", "PEAK %M", str(assay), str(script),
                                       url, str(out), str(SIZE)], capture_output=True,
                                      text=True, env=env, timeout=CHILD_TIMEOUT_S)
                a_s = time.monotonic() - started
                if done.returncode != 0 or out.stat().st_size != SIZE:
                    raise BenchError(f"assay download failed: {done.stderr[-800:]}")
                peaks.append(int(done.stderr.split("PEAK ")[-1].split()[0]) / 1024)
                out.unlink()
                started = time.monotonic()
                done = subprocess.run([curl, "-s", "-o", str(out), url], capture_output=True,
                                      text=True, timeout=CHILD_TIMEOUT_S)
                c_s = time.monotonic() - started
                if done.returncode != 0 or out.stat().st_size != SIZE:
                    raise BenchError(f"curl download failed: {done.stderr[-800:]}")
                out.unlink()
                a, c = SIZE / 1e6 / a_s, SIZE / 1e6 / c_s
                assay_rates.append(a)
                curl_rates.append(c)
                ratios.append(a / c)
                log(f"  download round {i + 1}: assay {a:.0f} MB/s, curl {c:.0f} MB/s, "
                    f"assay peak {peaks[-1]:.1f} MiB")
        finally:
            server.terminate()
            server.wait(timeout=10)
    version = subprocess.run([curl, "--version"], capture_output=True,
                             text=True).stdout.split("\n")[0].split(" (")[0]
    return DownloadResult(statistics.median(assay_rates), statistics.median(curl_rates),
                          statistics.median(ratios), max(peaks), rounds, version)
