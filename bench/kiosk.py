"""The kiosk under Xvfb: cold start to the first frame, tap-to-next-screen time, and memory
over 1,000 scripted journeys, each against a baseline measured in the same run.

    python bench/kiosk.py [--launches 5] [--journeys 1000] [--warmup 100] [--quick]
                          [--catalogue 108]

Starts its own Xvfb (1920x1080x24) and drives the real `nafitha kiosk --windowed` with the
pilot, on a fake network printer, a simulated card terminal (approving) and a camera that
sees an image file (bench/_kiosk.py).

- cold start: process launch until the pilot answers `state` with screen "home" and a
  screenshot (the next drawn frame) is saved; median of --launches, after one untimed launch
  that creates the data and Kivy directories. Baseline: a Kivy app of the same window size
  with one label and the pilot (bench/_minimal_kivy_app.py), launched alternately.
- taps: the pilot's `tap` round trip (touch down/up, then settled: background steps
  finished, at least 3 frames drawn) for every tap of the journeys that changes the screen.
  Baselines: a tap on a label that does nothing (the ticket's and the result's number), and
  `settle` alone.
- --catalogue 108: the journeys run on the generated 108-service catalogue
  (testing/catalog_108.py: a service is reached by sector -> category -> service), and cold
  start is measured with 108 and with the shipped 8, launched alternately (issue 25: 108 at
  most 1.2x the 8).
- memory: VmRSS of the kiosk process (/proc/<pid>/status) after --warmup journeys and at the
  end; target: growth <= 10%. The journeys cycle apply (residence certificate, paid by card,
  licence printed) -> ticket -> verify (the last licence, by camera). At the end the store
  must hold exactly one ticket per ticket journey and one issued, card-paid application and
  licence per apply journey.

Prints one JSON object. Exit code 1 if a journey failed or the kiosk did not start."""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.queue import PRIORITIES as QUEUE_PRIORITIES  # noqa: E402
from core.sealing import DataKey, data_key_path, unseal  # noqa: E402
from testing.pilot_client import PilotError  # noqa: E402
from testing.xvfb import Xvfb  # noqa: E402

# bench/ on the path only for this import: left there, this file (kiosk.py) would hide the
# kiosk package from whoever imports it next (the tests load this file in their process).
sys.path.insert(0, str(ROOT / "bench"))
try:
    # percentile: tests/bench/test_bench_kiosk.py reaches it through this module
    from _kiosk import (KioskBench, launch_minimal, percentile, proc_status,  # noqa: E402, F401
                        summary, valid_cpr)
finally:
    sys.path.remove(str(ROOT / "bench"))

MEMORY_GROWTH_MAX_PCT = 10.0
# Issue 25's speed targets: a tap to the next screen drawn, p95 at most 2x the inert tap's
# p50; a key press in a form, p95 at most 1.2x it; cold start with 108 services at most 1.2x
# the cold start with 8.
TAP_P95_PER_INERT_P50 = 2.0
KEY_P95_PER_INERT_P50 = 1.2
COLD_108_PER_8 = 1.2
MIX = ("apply", "ticket", "verify")
PRIORITIES = ("normal", *QUEUE_PRIORITIES)  # a resident may also take no priority
TICKET_SERVICES = ("residence-certificate", "building-permit-small", "excavation-permit")
NAMES = {"ar": ("فاطمة علي", "محمد حسن", "زينب جاسم"),
         "en": ("Mariam Hasan", "Ali Ahmed", "Sara Yusuf")}
# Residence certificate answers after name, CPR and phone: block, road, building.
ADDRESS = ("208", "2811", "1234")
MAX_FAILED_JOURNEYS = 5
QUICK = {"launches": 2, "journeys": 6, "warmup": 3, "sample_every": 3}


# --- the catalogue -------------------------------------------------------------------------

def prepare_catalogue(tmp: Path, catalogue: int) -> None:
    """Before a KioskBench(tmp) is made: 108 points its data directory at the generated
    ministry-scale catalogue (testing/catalog_108.py, written beside it, certified by the
    bench for every licence type); 8 leaves the shipped catalogue."""
    if catalogue == 8:
        return
    if catalogue != 108:
        raise ValueError(f"a catalogue of 8 or 108 services, not {catalogue}")
    from testing.catalog_108 import write_catalog_108

    directory = write_catalog_108(Path(tmp) / "catalog-108")
    (Path(tmp) / "data").mkdir(parents=True, exist_ok=True)
    (Path(tmp) / "data" / "nafitha.toml").write_text(
        f"catalog_dir = {json.dumps(str(directory))}\n", encoding="utf-8")


# --- cold start ---------------------------------------------------------------------------

def time_cold_start(launch, shot: Path) -> dict:
    """Seconds from launching the process to: the pilot answering with the app settled,
    `state` saying "home", and the next frame saved."""
    start = time.perf_counter()
    pilot = launch()
    try:
        launched = time.perf_counter()
        state = pilot.state()
        if state.get("screen") != "home":
            raise PilotError(f"the first screen is {state.get('screen')!r}, not 'home'")
        home = time.perf_counter()
        pilot.screenshot(shot)
        drawn = time.perf_counter()
        rss = proc_status(pilot.pid)["VmRSS"]
    finally:
        pilot.close()
    return {"first_frame_s": drawn - start, "pilot_ready_s": launched - start,
            "home_state_s": home - start, "rss_kib": rss}


def cold_starts(tmp: Path, launches: int, catalogue: int = 8) -> dict:
    kiosk = KioskBench(tmp / "cold-kiosk")
    benches = [kiosk]
    minimal_tmp = tmp / "cold-minimal"
    minimal_tmp.mkdir()
    runs = {"kiosk": [], "minimal": []}
    launchers = {"kiosk": kiosk.launch, "minimal": lambda: launch_minimal(minimal_tmp)}
    if catalogue != 8:
        prepare_catalogue(tmp / "cold-kiosk-108", catalogue)
        benches.append(KioskBench(tmp / "cold-kiosk-108"))
        runs["kiosk_108"] = []
        launchers["kiosk_108"] = benches[-1].launch
    try:
        for i in range(launches + 1):  # the first: untimed, creates data and Kivy home
            names = list(launchers)
            order = names if i % 2 == 0 else names[::-1]
            for name in order:
                runs[name].append(time_cold_start(launchers[name], tmp / f"{name}-{i}.png"))
        renderer = gl_renderer(kiosk.data / "kivy")
    finally:
        for bench in benches:
            bench.close()

    def report(entries):
        timed = entries[1:]
        ms = lambda key: [round(e[key] * 1000, 1) for e in timed]  # noqa: E731
        return {"median_ms": round(statistics.median(ms("first_frame_s")), 1),
                "all_ms": ms("first_frame_s"),
                "pilot_ready_median_ms": round(statistics.median(ms("pilot_ready_s")), 1),
                "home_state_median_ms": round(statistics.median(ms("home_state_s")), 1),
                "first_launch_ms": round(entries[0]["first_frame_s"] * 1000, 1),
                "rss_after_first_frame_kib": int(statistics.median(e["rss_kib"]
                                                                   for e in timed))}

    out = {"kiosk": report(runs["kiosk"]), "baseline_minimal_kivy": report(runs["minimal"])}
    out["ratio_kiosk_vs_minimal"] = round(
        out["kiosk"]["median_ms"] / out["baseline_minimal_kivy"]["median_ms"], 2)
    if "kiosk_108" in runs:
        out["kiosk_108_services"] = report(runs["kiosk_108"])
        out["ratio_108_vs_8_services"] = round(
            out["kiosk_108_services"]["median_ms"] / out["kiosk"]["median_ms"], 2)
    out["gl_renderer"] = renderer
    return out


def gl_renderer(kivy_home: Path) -> str | None:
    """What Kivy logged as the OpenGL renderer (Mesa llvmpipe under Xvfb)."""
    for log in sorted((kivy_home / "logs").glob("*.txt"), reverse=True):
        found = re.search(r"OpenGL renderer <b'([^']*)'>", log.read_text(errors="replace"))
        if found:
            return found.group(1)
    return None


# --- journeys -----------------------------------------------------------------------------

class Driver:
    """Taps through the kiosk and times them. `taps[label]`: round trips (s) of taps that
    change the screen; `inert`: taps on a label (nothing happens); `settles`: settle alone."""

    def __init__(self, kiosk: KioskBench, pilot, paths: dict | None = None):
        self.kiosk, self.pilot = kiosk, pilot
        # The sector and category taps before a service (108 catalogue), by service code.
        self.paths = paths or {}
        self.taps: dict[str, list[float]] = {}
        self.form_next: list[float] = []
        self.inert: list[float] = []
        self.settles: list[float] = []
        self.key_press: list[float] = []
        self.recent_taps: list[float] = []  # screen changes since the last memory sample
        self.payment_to_result: list[float] = []
        self.camera_to_verdict: list[float] = []
        self.counts = {kind: 0 for kind in MIX}
        self.durations = {kind: [] for kind in MIX}

    def state(self) -> dict:
        return self.pilot.state()

    def tap(self, pilot_id: str, to: str, *, or_already: str | None = None) -> dict:
        """Tap a button that shows screen `to`; the tap's reply comes once it is drawn
        (the pilot settles: steps on workers done, frames drawn). or_already: a screen that
        may follow `to` by itself before we look (the camera's verdict)."""
        before = self.state()["screen"]
        start = time.perf_counter()
        self.pilot.tap(pilot_id)
        took = time.perf_counter() - start
        state = self.state()
        if state["screen"] not in (to, or_already) or state["busy"] and state["screen"] == to:
            raise PilotError(f"tap {pilot_id!r} on {before!r}: now on {state['screen']!r} "
                             f"(busy {state['busy']}), expected {to!r}; "
                             f"visit {json.dumps(state['visit'], ensure_ascii=False)[:600]}")
        name = re.sub(r"^(service|ticket|sector|category):.*", r"\1:*", pilot_id)
        self.taps.setdefault(f"{name} ({before}->{to})", []).append(took)
        self.recent_taps.append(took)
        return state

    def tap_inert(self, pilot_id: str) -> None:
        before = self.state()
        start = time.perf_counter()
        self.pilot.tap(pilot_id)
        self.inert.append(time.perf_counter() - start)
        after = self.state()
        if after["screen"] != before["screen"]:
            raise PilotError(f"the baseline tap on {pilot_id!r} changed the screen")

    def settle(self) -> None:
        start = time.perf_counter()
        self.pilot.settle()
        self.settles.append(time.perf_counter() - start)

    def wait(self, screen: str, timeout_s: float = 30) -> dict:
        return self.pilot.wait_until(lambda s: s["screen"] == screen and not s["busy"],
                                     timeout_s=timeout_s, interval_s=0.01)

    def answer(self, text: str, last: bool) -> None:
        state = self.state()
        flags = state["flags"]
        if flags.get("keyboard") == "text" and text:
            arabic = any("\u0600" <= ch <= "\u06ff" for ch in text)
            layout_ar = "key:ب" in self.pilot.id_list()
            if arabic != layout_ar:
                self.pilot.tap("key:switch")
        start = time.perf_counter()
        self.pilot.type(text)
        self.key_press.append((time.perf_counter() - start) / max(1, len(text)))
        if last:
            self.tap("next", "review")
            return
        step = state["visit"]["step"]
        start = time.perf_counter()
        self.pilot.tap("next")
        took = time.perf_counter() - start
        after = self.state()
        if after["screen"] != "form" or after["visit"]["step"] != step + 1:
            raise PilotError(f"the answer {text!r} was not taken: "
                             f"{json.dumps(after['visit'], ensure_ascii=False)[:600]}")
        self.form_next.append(took)

    # one journey of each kind; each starts and ends on the start screen
    def journey(self, kind: str, i: int) -> None:
        start = time.perf_counter()
        getattr(self, f"journey_{kind}")(i)
        self.durations[kind].append(time.perf_counter() - start)
        self.counts[kind] += 1
        self.settle()  # the baseline: a settle with nothing to do, on the start screen

    def choose(self, code: str, to: str) -> None:
        """A service on the list: its sector and category first in a large catalogue."""
        for pilot_id in self.paths.get(code, ()):
            self.tap(pilot_id, "services")
        self.tap(f"service:{code}", to)

    def journey_ticket(self, i: int) -> None:
        self.tap("home:ticket", "services")
        self.choose(TICKET_SERVICES[i % len(TICKET_SERVICES)], "priority")
        state = self.tap(f"ticket:{PRIORITIES[i % len(PRIORITIES)]}", "ticket")
        if not re.fullmatch(r"[A-Z]\d{3}", state["texts"].get("number", "")) or \
                state["flags"].get("printed") is not True:
            raise PilotError(f"ticket screen: {state['texts']} {state['flags']}")
        self.tap_inert("ticket_number")
        self.tap("done", "home")

    def journey_apply(self, i: int) -> None:
        lang = self.kiosk.lang
        self.tap("home:apply", "services")
        self.choose("residence-certificate", "service")
        self.tap("start_form", "form")
        answers = [NAMES[lang][i % len(NAMES[lang])], valid_cpr(i),
                   f"3{6000000 + i % 1_000_000:07d}", *ADDRESS]
        for n, text in enumerate(answers):
            self.answer(text, last=n == len(answers) - 1)
        # Paying: the tap comes back while the resident is at the terminal (the pilot counts
        # that as settled), so the result screen is waited for.
        start = time.perf_counter()
        self.pilot.tap("pay_now")
        state = self.wait("result")
        self.payment_to_result.append(time.perf_counter() - start)
        if state["visit"]["payment_state"] != "approved" or not state["visit"]["licence"] \
                or state["visit"]["print_ok"] is not True:
            raise PilotError(f"payment ended {state['visit']['payment_state']!r}, licence "
                             f"{bool(state['visit']['licence'])}, printed "
                             f"{state['visit']['print_ok']}")
        self.tap_inert("result_number")
        self.tap("done", "home")

    def journey_verify(self, i: int) -> None:
        number, payload = latest_licence(self.kiosk.data)
        self.kiosk.show_qr(payload)
        self.tap("home:verify", "verify", or_already="verified")
        start = time.perf_counter()
        state = self.wait("verified")
        self.camera_to_verdict.append(time.perf_counter() - start)
        if state["flags"].get("valid") is not True or \
                number not in [r.get("value") for r in state["rows"]]:
            raise PilotError(f"verified {number}: {state['flags']} {state['rows']}")
        self.tap("done", "home")

    def recover(self) -> None:
        """After a failed journey: back to the start screen, as a resident walking off."""
        try:
            if "home" in self.pilot.id_list():
                self.pilot.tap("home")
            self.wait("home", timeout_s=20)
        except PilotError:
            pass


def latest_licence(data: Path) -> tuple[str, str]:
    db = sqlite3.connect(f"file:{data / 'nafitha.db'}?mode=ro", uri=True, timeout=10)
    try:
        row = db.execute("SELECT l.number, l.signed_payload, l.application_id, k.wrapped "
                         "FROM licences l JOIN resident_keys k USING (application_id) "
                         "ORDER BY l.rowid DESC LIMIT 1").fetchone()
    finally:
        db.close()
    if row is None:
        raise PilotError("no licence issued yet to show the camera")
    number, sealed, application_id, wrapped = row
    # The code is sealed with the resident's key (docs/privacy.md): open it as the app does.
    key = DataKey(data_key_path(data)).unwrap(wrapped, application_id)
    return number, unseal(key, application_id, sealed)


def sample(driver: Driver, journeys_done: int, started: float) -> dict:
    pilot = driver.pilot
    pilot.settle()
    status = proc_status(pilot.pid)
    recent, driver.recent_taps = driver.recent_taps, []
    return {"journeys": journeys_done, "elapsed_s": round(time.perf_counter() - started, 1),
            # do taps get slower as journeys pile up?
            "screen_change_p50_ms_since_last": summary(recent)["p50_ms"],
            "rss_kib": status["VmRSS"], "rss_anon_kib": status.get("RssAnon"),
            "hwm_kib": status["VmHWM"], "threads": status["Threads"], "fds": status["fds"],
            # every text held by a widget or view-model, shown or not: grows if widgets pile up
            "app_texts": len(pilot.call("all_texts"))}


def service_paths(data: Path) -> dict:
    """{service code: [the sector and category taps before it]} in the kiosk's catalogue,
    as the kiosk offers it (a level with one choice, or a catalogue on one screen: none)."""
    from core.catalog import load_catalog
    from core.service_search import SCREEN_CHOICES, browse
    from core.settings import load_settings

    catalog = load_catalog(load_settings(data, environ={}).catalog_dir)
    if len(catalog) <= SCREEN_CHOICES:
        return {}
    tree = browse(catalog)
    return {s.code: ([f"sector:{sector.code}"] if len(tree) > 1 else []) +
            ([f"category:{category.code}"] if len(sector.categories) > 1 else [])
            for sector in tree for category in sector.categories for s in category.services}


def run_journeys(tmp: Path, journeys: int, warmup: int, sample_every: int, lang: str,
                 catalogue: int = 8, profile: str | None = None) -> dict:
    prepare_catalogue(tmp / "journeys", catalogue)
    # --profile: the kiosk's UI thread under cProfile (ui/launch.py) during the journeys
    kiosk = KioskBench(tmp / "journeys", lang=lang,
                       extra_env={"NAFITHA_PROFILE_TO": profile} if profile else None)
    pilot = kiosk.launch()
    driver = Driver(kiosk, pilot, service_paths(kiosk.data))
    failures: list[dict] = []
    samples: list[dict] = []
    printed = 0
    started = time.perf_counter()
    try:
        driver.wait("home")
        samples.append(sample(driver, 0, started))
        done = 0
        for i in range(journeys):
            kind = MIX[i % len(MIX)]
            try:
                driver.journey(kind, i)
                done += 1
            except PilotError as exc:
                failures.append({"journey": i, "kind": kind, "error": str(exc)[:1500]})
                if pilot.returncode is not None or len(failures) > MAX_FAILED_JOURNEYS:
                    break
                driver.recover()
            if (i + 1) % sample_every == 0 or i + 1 == warmup or i + 1 == journeys:
                samples.append(sample(driver, i + 1, started))
                printed += len(kiosk.printer.jobs)  # counted, then dropped: the bench's memory
                kiosk.printer.clear()
        elapsed = time.perf_counter() - started
        printed += len(kiosk.printer.jobs)
        store = kiosk.store_counts()
        charges = len(kiosk.terminal.charges)
    finally:
        code = pilot.close()
        stderr = pilot.stderr_text()
        kiosk.close()
    n = driver.counts
    expected = {"tickets": n["ticket"], "applications": n["apply"],
                "applications_issued": n["apply"], "payments_card": n["apply"],
                "licences": n["apply"], "terminal_charges": n["apply"],
                # a ticket; an application paid by card: its licence and its receipt
                "print_jobs": n["ticket"] + 2 * n["apply"]}
    found = {**store, "terminal_charges": charges, "print_jobs": printed}
    at_warmup = next((s for s in samples if s["journeys"] == warmup), None)
    at_end = samples[-1]
    growth = None
    if at_warmup is not None and at_end["journeys"] > warmup:
        growth = round((at_end["rss_kib"] - at_warmup["rss_kib"]) / at_warmup["rss_kib"] * 100, 2)
    # taking a ticket writes the store and prints; opening the verify screen starts the camera
    ui_only = [t for label, times in driver.taps.items() for t in times
               if not label.startswith(("ticket:", "home:verify"))]
    changes = [t for times in driver.taps.values() for t in times]
    inert = summary(driver.inert)
    screen_change = summary(changes)
    return {
        "journeys": {"requested": journeys, "completed": sum(n.values()),
                     "by_kind": {k: {"completed": n[k],
                                     "median_s": round(statistics.median(driver.durations[k]), 2)
                                     if driver.durations[k] else None} for k in MIX},
                     "failed": failures, "duration_s": round(elapsed, 1),
                     "kiosk_exit_code": code,
                     "kiosk_stderr_tail": stderr.strip()[-1500:] if failures else None},
        "taps": {
            "screen_change": screen_change,
            "screen_change_ui_only": summary(ui_only),
            "per_transition": {label: summary(times)
                               for label, times in sorted(driver.taps.items())},
            "form_next_field": summary(driver.form_next),
            "baseline_inert_tap": inert,
            "baseline_settle": summary(driver.settles),
            "screen_change_minus_inert_p50_ms": round(screen_change["p50_ms"] - inert["p50_ms"], 1)
            if screen_change["n"] and inert["n"] else None,
            "key_press_in_type": summary(driver.key_press),
            "pay_now_to_result_drawn": summary(driver.payment_to_result),
            # after the home:verify tap's reply (the camera may have read the code already)
            "verify_tap_reply_to_verdict_drawn": summary(driver.camera_to_verdict),
        },
        "memory": {
            "warmup_journeys": warmup,
            "rss_start_kib": samples[0]["rss_kib"],
            "rss_after_warmup_kib": at_warmup["rss_kib"] if at_warmup else None,
            "rss_end_kib": at_end["rss_kib"],
            "hwm_end_kib": at_end["hwm_kib"],
            "growth_after_warmup_pct": growth,
            "samples": samples,
        },
        "store": {"expected": expected, "found": found, "exact": found == expected},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=5, help="timed cold starts of each app")
    parser.add_argument("--journeys", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100,
                        help="journeys before the memory reference sample")
    parser.add_argument("--sample-every", type=int, default=50)
    parser.add_argument("--lang", default="ar", choices=("ar", "en"))
    parser.add_argument("--catalogue", type=int, default=8, choices=(8, 108),
                        help="services in the catalogue: the shipped 8, or the generated 108 "
                             "(journeys by sector and category; cold start with both)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 launches, 6 journeys, warm-up 3")
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile the kiosk's UI thread during the journeys into FILE "
                             "(pstats); the top entries go to stderr")
    args = parser.parse_args(argv)
    profile = str(Path(args.profile).resolve()) if args.profile else None
    if args.quick:
        for key, value in QUICK.items():
            if parser.get_default(key) == getattr(args, key):
                setattr(args, key, value)
    if args.launches < 1 or args.journeys < 1 or args.sample_every < 1:
        parser.error("--launches, --journeys and --sample-every must be at least 1")
    warmup = min(args.warmup, max(0, args.journeys - 1))

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nafitha-bench-kiosk-") as tmp, Xvfb() as xvfb:
        tmp = Path(tmp)
        try:
            cold = cold_starts(tmp, args.launches, args.catalogue)
        except PilotError as exc:
            print(json.dumps({"benchmark": "kiosk", "error": f"cold start: {exc}"[:4000]},
                             indent=2, ensure_ascii=False))
            return 1
        run = run_journeys(tmp, args.journeys, warmup, args.sample_every, args.lang,
                           args.catalogue, profile)
        screen = xvfb.screen
    if profile and Path(profile).exists():
        import pstats
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(30)

    growth = run["memory"]["growth_after_warmup_pct"]
    taps = run["taps"]
    inert_p50 = taps["baseline_inert_tap"]["p50_ms"]
    met = {
        "memory_growth_after_warmup": growth is not None and growth <= MEMORY_GROWTH_MAX_PCT,
        "journeys_completed": run["journeys"]["completed"] == args.journeys,
        "store_counts_exact": run["store"]["exact"],
        "tap_to_next_screen_p95": bool(inert_p50) and (
            taps["screen_change_ui_only"]["p95_ms"] or math.inf)
        <= TAP_P95_PER_INERT_P50 * inert_p50,
        "key_press_p95": bool(inert_p50) and (taps["key_press_in_type"]["p95_ms"] or math.inf)
        <= KEY_P95_PER_INERT_P50 * inert_p50,
    }
    if "ratio_108_vs_8_services" in cold:
        met["cold_start_108_vs_8"] = cold["ratio_108_vs_8_services"] <= COLD_108_PER_8
    from importlib.metadata import version
    report = {
        "benchmark": "kiosk.cold_start_taps_memory",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "kivy": version("kivy"), "display": f"Xvfb {screen}",
                    "gl_renderer": cold.pop("gl_renderer")},
        "parameters": {"launches": args.launches, "journeys": args.journeys,
                       "warmup": warmup, "sample_every": args.sample_every,
                       "lang": args.lang, "mix": list(MIX), "quick": args.quick,
                       "catalogue": args.catalogue},
        "cold_start": cold,
        **run,
        "targets": {
            "memory_growth_after_warmup_max_pct": MEMORY_GROWTH_MAX_PCT,
            "journeys_completed": args.journeys,
            "store_counts_exact": True,
            "tap_to_next_screen_p95_max_ms": round(TAP_P95_PER_INERT_P50 * inert_p50, 1)
            if inert_p50 else None,
            "key_press_p95_max_ms": round(KEY_P95_PER_INERT_P50 * inert_p50, 1)
            if inert_p50 else None,
            "cold_start_108_vs_8_max_ratio": COLD_108_PER_8,
            "note": "issue 25: taps and key presses against the inert tap's p50 of the same "
                    "run (screen changes without the store, the printer or the camera: "
                    "screen_change_ui_only); cold start with 108 against 8 (--catalogue 108)",
            "met": met, "all_met": all(met.values()),
        },
        "duration_s": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if run["journeys"]["completed"] == args.journeys else 1


if __name__ == "__main__":
    sys.exit(main())
