"""Supporting documents at the counter and the kiosk: a page photographed by the camera made
flat and legible (cleanup), pages from a scanner (scanner) or a file brought on a USB stick
(imports). Each returns encoded page images for core's office store; nothing here stores.

    from devices.documents import clean_page, encode_page, import_file, FakeScanner
"""
from .cleanup import CleanPage, NoPageFound, clean_page, encode_page, find_page  # noqa: F401
from .imports import (MAX_IMPORT_BYTES, MAX_IMPORT_PAGES, ImportRefused,  # noqa: F401
                      import_file, import_frames)
from .scanner import (DocumentScanner, FakeScanner, SaneScanner, ScanFailed,  # noqa: F401
                      ScannerUnavailable, ScanRequest)
