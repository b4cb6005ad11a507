"""`nafitha scan`: read codes from a camera, a video file, a stream or a folder of images.

The same pipeline as the kiosk and the counter (devices.scanning: open_source ->
ScanService with the DecoderChain -> debounce), printed one code per line; with --verify each
licence code is checked offline against the trusted root keys of the data directory.

It takes the same `Context` object as every command (ctx.settings.data_dir), and also works
without one (the default settings); register() adds it to the root group."""
from __future__ import annotations

import json
import logging
import queue
import re
import sys
import time
from datetime import datetime, timezone

import click

from core.errors import NafithaError

LICENCE = re.compile(r"^NF\d+:")
RETRY_S = 0.5  # first pause before reopening a lost camera (it doubles, up to 10 s)
KIND_WORDS = {"ticket": "a queue ticket", "application": "an application receipt",
              "binary": "binary data", "other": "not one of our codes"}


def _size(ctx, param, value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    m = re.fullmatch(r"\s*(\d{2,5})\s*[xX]\s*(\d{2,5})\s*", value or "")
    if not m:
        raise click.BadParameter(f"{value!r} is not WIDTHxHEIGHT, e.g. 1280x720")
    return int(m.group(1)), int(m.group(2))


def classify(text: str | None) -> dict:
    """What a scanned code is: a licence (NF1:), one of our ticket/application codes
    (core.codes), binary data, or something else (a product barcode, a web link, ...)."""
    from core import codes
    if text is None:
        return {"kind": "binary"}
    if LICENCE.match(text):
        return {"kind": "licence"}
    parsed = codes.parse(text)
    if parsed:
        kind, office, reference = parsed
        return {"kind": kind, "office": office, "reference": reference}
    return {"kind": "other"}


def verification(text: str | None, code: dict, symbology: str, trust) -> dict:
    from core.credentials.licence import verify
    if code["kind"] == "licence":
        return verify(text, trust).to_dict()
    what = KIND_WORDS[code["kind"]]
    if code["kind"] == "other":
        what = f"{symbology}, {what}"
    return {"valid": False, "reason": "not_a_licence",
            "message": f"Not a licence code ({what}).", "detail": "", "claims": {}}


def _printable(text: str) -> str:
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def _human(record: dict) -> None:
    if record["text"] is None:
        shown = f"(binary, {record['bytes']} bytes) {record['hex']}"
    else:
        shown = _printable(record["text"])
    click.echo(f"{record['symbology']:<9} {shown}")
    code = record["code"]
    if code["kind"] in ("ticket", "application"):
        click.echo(f"          {code['kind']} {code['reference']} of office {code['office']}")
    check = record.get("verification")
    if check is not None:
        if check["reason"] == "not_a_licence":
            click.echo(f"          {check['message']}")
        else:
            verdict = "GENUINE" if check["valid"] else "NOT GENUINE"
            detail = f" ({check['detail']})" if check.get("detail") else ""
            click.echo(f"          {verdict}: {check['message']}{detail}")
            c = check.get("claims") or {}
            if c:
                click.echo(f"          licence {c['number']} ({c['type']})  holder "
                           f"{c['holder']}  office {c['office']}")


@click.command("scan", epilog="\b\nExample:\n    nafitha --data ./data scan --source 0 "
               "--verify\n    nafitha scan --source ./frames --json\n"
               "    nafitha scan --source 0 --timeout 30 --debounce 5")
@click.option("--source", metavar="0|FILE|DIR|URL",
              help="A camera index (0) or /dev/videoN, a video file, a folder of images (in "
                   "name order), an image, or a stream URL (rtsp://, http://). Default: "
                   "scanner.source in the settings (camera 0).")
@click.option("--verify", is_flag=True,
              help="Check each licence code (NF1:) offline with the trusted root keys.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per line per code.")
@click.option("--max-frames", type=click.IntRange(min=1), metavar="N",
              help="Stop after N frames.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="S",
              help="Stop after S seconds (default: when the source ends, or Ctrl-C).")
@click.option("--debounce", type=click.FloatRange(min=0), metavar="S",
              help="Report the same code again only after S seconds out of view (default: "
                   "scanner.debounce_s, 2).")
@click.option("--size", callback=_size, metavar="WxH",
              help="Camera resolution to ask for (default: scanner.width x height, 1280x720; "
                   "720p reads licence QRs reliably).")
@click.pass_obj
def scan(ctx, source, verify, as_json, max_frames, timeout, debounce, size):
    """Print each code the camera (or a file, folder or stream) sees, once per sighting.

    Exit status: 0 when the source ended, the limit was reached or Ctrl-C; 1 when the source
    cannot be opened or the camera was lost at the end (the reason on stderr).
    """
    try:
        from core.settings import load_settings
        sc = (ctx.settings if ctx is not None else load_settings(None, None)).scanner
        # what the command line leaves out comes from the settings
        source = sc.source if source is None else source
        debounce = sc.debounce_s if debounce is None else debounce
        size = (sc.width, sc.height) if size is None else size
        _scan(ctx, source, verify, as_json, max_frames, timeout, debounce, size,
              sc.serial_port, sc.serial_baudrate)
    except NafithaError as exc:
        if as_json:
            click.echo(json.dumps(exc.to_dict(), ensure_ascii=False))
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)


def _scan(ctx, spec, verify, as_json, max_frames, timeout, debounce, size,
          serial_port: str = "", serial_baudrate: int = 9600) -> None:
    from devices.scanning.capture import ScannerError, open_source
    from devices.scanning.decoders import DecoderChain
    from devices.scanning.service import ScanService

    trust = None
    if verify:
        from core.credentials.trust import TrustStore
        if ctx is None:
            from core.settings import load_settings
            data_dir = load_settings(None, None).data_dir
        else:
            data_dir = ctx.settings.data_dir
        trust = TrustStore.load(data_dir)
        if not trust.roots:
            click.echo(f"warning: no trusted root key in {data_dir} (see: nafitha keys "
                       f"trust-root): no licence can be found genuine", err=True)

    decoder = DecoderChain()
    if not decoder.available:
        raise ScannerError("no barcode decoder is installed: " + "; ".join(
            f"{name}: {why}" for name, why in decoder.missing.items()))
    source = open_source(spec, *size)
    service = ScanService(source, decoder=decoder, debounce_s=debounce, max_frames=max_frames,
                          retry_s=RETRY_S)

    # The service logs a lost camera once and its return once (and skipped images): here
    # those lines are the user's status messages, on stderr.
    log = logging.getLogger("nafitha.scanning")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    old_level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)

    def show(event):
        record = event.to_dict()
        record["at"] = datetime.fromtimestamp(event.at, timezone.utc).isoformat(
            timespec="milliseconds")
        record["code"] = classify(event.text)
        if trust is not None:
            record["verification"] = verification(event.text, record["code"],
                                                   event.symbology, trust)
        if as_json:
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            _human(record)

    deadline = None if timeout is None else time.monotonic() + timeout
    serial = None
    if serial_port:  # a serial barcode scanner feeds the same stream (and debounce)
        from devices.scanning.serial_scanner import SerialScanner
        serial = SerialScanner(serial_port, service.publish, baudrate=serial_baudrate).start()
    service.start()
    try:
        while deadline is None or time.monotonic() < deadline:
            try:
                show(service.events.get(timeout=0.05))
            except queue.Empty:
                if service.wait(0) and serial is None:
                    break  # the source ended; what it found is drained below
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a live scan ends
    finally:
        status = service.status  # before stop() turns it into "stopped"
        if serial is not None:
            serial.stop()
        service.stop()
        log.removeHandler(handler)
        log.setLevel(old_level)
    while True:
        try:
            show(service.events.get_nowait())
        except queue.Empty:
            break
    status = service.status if service.status.state == "ended" else status
    if not as_json:
        click.echo(f"{status.events} code(s) in {status.frames} frame(s): "
                   f"{status.detail or status.state}", err=True)
    if status.state in ("reconnecting", "no_camera") or \
            status.detail.startswith("scanner error"):
        raise ScannerError(status.detail)


def register(root: click.Group) -> None:
    root.add_command(scan)
