"""Scanning: camera frames (OpenCV) -> decoder chain (zxing-cpp first, then pyzbar) -> debounced
result -> verification (DESIGN.md, "How data flows" 6; docs/scanning.md).

    capture         open_source: camera index or /dev/videoN, video file, stream URL, folder
    decoders        DecoderChain and decode_file: every code in one frame, with its bytes, type,
                    corners and the backend that read it
    debounce        the same code reported once while it stays in view
    service         ScanService: the worker thread, its status, the ScanEvent stream
    serial_scanner  line-terminated serial barcode scanners feeding the same stream
    wedge           keyboard-wedge scanners: fast key bursts ending in Enter
    fakes           recording fakes for tests and demos
"""
