"""`compat history` and `compat bisect --behaviour` on real releases (wheels for the static
half, uv-built environments for the behaviour half), and the timeline in a real browser."""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import pytest

from compat import envs
from compat.cli import main
from compat.model.errors import CompatError
from compat.tools import history as history_mod
from compat.tools import timeline

RELEASES = ["1.11.4", "1.11.5", "1.11.6"]  # the monolith, the move into instance.py, the mixins


def test_lives_are_intervals_a_cause_can_leave_and_come_back():
    chain = ["1", "2", "3", "4", "5"]

    def c(sev="breaking"):
        return {"severity": sev, "title": "t", "packages": ["dagster-cloud"], "layers": ["behaviour"]}

    present = {"2": {"a": c(), "b": c("info")}, "3": {"b": c("warning")}, "4": {"a": c()}, "5": {"a": c(), "b": c()}}
    lives = {x.id: x for x in history_mod.lives(chain, present)}
    assert lives["a"].intervals == [("2", "3"), ("4", None)]
    assert lives["b"].intervals == [("2", "4"), ("5", None)]
    assert lives["b"].severity == "breaking"  # the worst it ever was
    assert lives["a"].packages == ["dagster-cloud"]


@pytest.fixture(scope="module")
def static_history():
    return history_mod.history("1.11.4", "1.11.6", behaviour=False, versions=RELEASES)


def test_static_history_dates_each_cause(static_history):
    h = static_history
    assert h.releases == RELEASES
    lives = {x.id: x for x in h.lives}
    # the run-creating hook lost in the move of 1.11.5 is still lost after the split of 1.11.6
    assert lives["dispatch-lost:create_run"].intervals == [("1.11.5", None)]
    assert lives["dispatch-lost:create_run"].severity == "breaking"
    # the mixin classes of 1.11.6 are new in 1.11.6
    assert lives["added:RunMethods"].intervals == [("1.11.6", None)]
    # some change of 1.11.5 was undone by 1.11.6: a bar with an end
    assert any(x.intervals[0][1] == "1.11.6" for x in h.lives)
    # 1.11.6 against its predecessor is not 1.11.6 against 1.11.4
    assert {c["id"] for c in h.against_previous["1.11.6"]} != {c["id"] for c in h.against_start["1.11.6"]}


def test_history_outputs_are_deterministic_and_complete(static_history, tmp_path):
    again = history_mod.history("1.11.4", "1.11.6", behaviour=False, versions=RELEASES)
    for fmt in ("text", "markdown", "json"):
        assert timeline.render(static_history, fmt) == timeline.render(again, fmt)
    assert timeline.html(static_history) == timeline.html(again)
    paths = timeline.write_all(static_history, tmp_path / "out")
    assert sorted(p.name for p in paths) == ["history.html", "history.json", "history.md"]
    data = json.loads((tmp_path / "out" / "history.json").read_text())
    assert data["schema"] == "compat.history" and data["releases"] == RELEASES
    assert len(data["causes"]) == len(static_history.lives)
    assert [s["release"] for s in data["steps"]] == ["1.11.5", "1.11.6"]
    md = (tmp_path / "out" / "history.md").read_text()
    assert "| `dispatch-lost:create_run` | breaking | 1.11.5 -> (still at 1.11.6) | - | profile, surface |" in md


def test_a_damaged_cached_comparison_is_one_line(tmp_path, monkeypatch):
    wheels = [envs.wheel_tree(v) for v in RELEASES[:2]]  # fetched once, shared with the private cache
    monkeypatch.setenv("COMPAT_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache" / "wheels").mkdir(parents=True)
    for w in wheels:
        os.symlink(w, tmp_path / "cache" / "wheels" / w.name)
    rec = history_mod.Recorder(behaviour=False)
    rec.causes("1.11.4", "1.11.5")
    [step] = (tmp_path / "cache" / "history").glob("*.json")
    data = json.loads(step.read_text())
    data["causes"][0]["severity"] = "fatal"
    step.write_text(json.dumps(data))
    with pytest.raises(CompatError, match=r"causes\.0\.severity"):
        history_mod.Recorder(behaviour=False).causes("1.11.4", "1.11.5")


def test_bad_ranges_are_harness_errors():
    with pytest.raises(CompatError, match="not a released dagster version"):
        history_mod.release_range("1.11.4", "9.9.9", RELEASES)
    with pytest.raises(CompatError, match="must be older"):
        history_mod.release_range("1.11.6", "1.11.4", RELEASES)
    assert main(["history", "--from", "1.11.4", "--to", "nonsense", "--static-only"]) == 2
    assert main(["bisect", "--from", "1.11.4", "--to", "1.11.6", "--cause", "dispatch-lost:create_run"]) == 2
    assert main(["bisect", "--behaviour", "--from", "1.11.4", "--to", "1.11.6", "--rule", "hook-no-longer-called"]) == 2


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def _chromium(*args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail("chromium is not installed (`apt-get install -y chromium`; .ci/run installs it)")
    profile = tempfile.mkdtemp(prefix="compat-chromium-")
    try:
        return subprocess.run(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def test_the_timeline_renders_in_a_real_browser(static_history, tmp_path):
    page = tmp_path / "history.html"
    page.write_text(timeline.html(static_history), encoding="utf-8")
    dom = _chromium("--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    # the browser parsed the inline SVG: one group per cause, one bar per interval
    assert dom.stdout.count('<g class="cause"') == len(static_history.lives)
    assert dom.stdout.count('class="bar"') == sum(len(x.intervals) for x in static_history.lives)
    assert 'data-id="dispatch-lost:create_run"' in dom.stdout
    shot = tmp_path / "timeline.png"
    run = _chromium(f"--screenshot={shot}", "--window-size=1400,1000", "--hide-scrollbars", page.as_uri())
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    assert _png_size(shot) == (1400, 1000)


@pytest.mark.slow
def test_bisect_behaviour_finds_a_divergence_that_was_fixed_and_one_that_stayed():
    """Real environments of three releases (built with uv once, then cached with their recordings).
    The plain spy on every scenario (the 'spy' cell set, 58 cells) sees both dispatches: a
    recording of each release costs a minute or two when the harness's code changed, where the
    652 cells of the gate set took half an hour of one core."""
    spy = {"versions": RELEASES, "cell_set": "spy"}
    located, rec = history_mod.bisect_behaviour("1.11.4", "1.11.6", member="should_store_event", **spy)
    # 1.11.5's event helpers stopped dispatching it (fixed in 1.11.6); 1.11.6 stores the freshness
    # change 1.11.4 refused, one more dispatch: two changes, each with its own interval
    assert [(x.what, x.severity, x.intervals, x.clean_before) for x in located] == [
        ("dispatches-to:should_store_event:fewer-from:handle_new_event", "breaking", [("1.11.5", "1.11.6")], ["1.11.4"]),
        ("dispatches-to:should_store_event:fewer-from:store_event", "breaking", [("1.11.5", "1.11.6")], ["1.11.4"]),
        ("dispatches-to:should_store_event:more-from:handle_new_event", "warning", [("1.11.6", None)], ["1.11.5"])]
    assert "fixed in 1.11.6" in history_mod.render_bisect(located, rec, "1.11.4", "1.11.6", 1.0)
    located, rec = history_mod.bisect_behaviour("1.11.4", "1.11.6", member="should_store_event", binary=True, **spy)
    assert [(x.what, x.intervals) for x in located] == [
        ("dispatches-to:should_store_event:more-from:handle_new_event", [("1.11.6", None)])]
    located, rec = history_mod.bisect_behaviour("1.11.4", "1.11.6", cause="dispatch-lost:create_run", binary=True,
                                                **spy)
    assert [(x.what, x.intervals, x.exact) for x in located] == [("dispatch-lost:create_run", [("1.11.5", None)], False)]


def test_recordings_are_keyed_by_the_code_a_recording_runs(tmp_path):
    """A history's recordings survive edits of the commands and tools (left out of the key) but
    not of anything a recording runs."""
    import hashlib

    from compat import pipeline

    def digest(root: Path) -> str:
        h = hashlib.sha256()
        envs.sources_digest(h, root, root, skip=pipeline._NOT_RECORDING)
        return h.hexdigest()

    (tmp_path / "tools").mkdir()
    (tmp_path / "behaviour").mkdir()
    (tmp_path / "causes").mkdir()
    (tmp_path / "tools" / "history.py").write_text("A = 1\n")
    (tmp_path / "behaviour" / "spy.py").write_text("B = 1\n")
    (tmp_path / "cli.py").write_text("C = 1\n")
    (tmp_path / "causes" / "grouping.py").write_text("D = 1\n")
    before = digest(tmp_path)
    (tmp_path / "tools" / "history.py").write_text("A = 2\n")
    (tmp_path / "cli.py").write_text("C = 2\n")
    (tmp_path / "causes" / "grouping.py").write_text("D = 2\n")  # how causes are read: the comparisons' key, not the recordings'
    assert digest(tmp_path) == before
    (tmp_path / "behaviour" / "spy.py").write_text("B = 2\n")
    assert digest(tmp_path) != before


MEASURE = """<script>
window.addEventListener("load", () => {
  const bars = [...document.querySelectorAll("rect.bar")].map(r => r.getBoundingClientRect());
  const left = Math.min(...bars.map(b => b.left)), right = Math.max(...bars.map(b => b.right));
  document.body.setAttribute("data-measured", JSON.stringify({
    scroll: document.documentElement.scrollWidth, window: window.innerWidth,
    chart: document.getElementById("timeline").getBoundingClientRect().width, bars: right - left}));
});
</script>"""


def test_the_timeline_uses_the_width_of_the_window(static_history, tmp_path):
    """Three releases once drew every bar in a 40 px strip and the table pushed columns
    off-screen: at 1280 px the chart spans the page, its bars most of it, and nothing scrolls
    sideways. (The page itself has no script: the test adds one that measures.)"""
    page = timeline.html(static_history)
    measured = tmp_path / "measured.html"
    measured.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = _chromium("--dump-dom", "--window-size=1280,900", "--virtual-time-budget=2000", measured.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    m = json.loads(html_lib.unescape(re.search(r'data-measured="([^"]+)"', dom.stdout).group(1)))
    assert m["window"] == 1280 and m["scroll"] <= 1280, m
    assert m["chart"] >= 1100 and m["bars"] >= 400, m  # ten times the old strip
    shot = tmp_path / "timeline-1280.png"
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    run = _chromium(f"--screenshot={shot}", "--window-size=1280,900", (tmp_path / "page.html").as_uri())
    assert run.returncode == 0 and _png_size(shot) == (1280, 900)


def test_a_sharded_history_merges_to_the_unsharded_bytes(static_history, tmp_path):
    from compat.tools import shards

    paths = []
    for k in (1, 2):
        text = history_mod.history_shard("1.11.4", "1.11.6", (k, 2), behaviour=False, versions=RELEASES)
        paths.append(tmp_path / f"shard-{k}.json")
        paths[-1].write_text(text)
    assert list(json.loads(paths[0].read_text())["steps"]) == ["1.11.5"]
    kind, read = shards.read_shards([str(p) for p in reversed(paths)])
    merged = shards.merge_history(read)
    for fmt in ("json", "markdown", "text"):
        assert timeline.render(merged, fmt) == timeline.render(static_history, fmt)
    # through the command line: the merged file is what `history --format json` prints
    assert main(["merge", str(tmp_path / "merged.json"), *map(str, paths)]) == 0
    assert (tmp_path / "merged.json").read_text() == timeline.render(static_history, "json").rstrip("\n") + "\n"
    # one shard, or a shard of another range: one line, exit 2
    assert main(["merge", str(tmp_path / "out.json"), str(paths[0])]) == 2
    other = tmp_path / "other.json"
    other.write_text(history_mod.history_shard("1.11.4", "1.11.5", (2, 2), behaviour=False, versions=RELEASES[:2]))
    assert main(["merge", str(tmp_path / "out.json"), str(paths[0]), str(other)]) == 2
    assert not (tmp_path / "out.json").exists()
