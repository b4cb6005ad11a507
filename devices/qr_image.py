"""Reading QR codes from a still image (a photo or scan of a printed licence).

The camera pipeline (capture, decoder chain, debounce) comes with the scanning work; this is
its first decoder, zxing-cpp, which reads distorted thermal prints far better than zbar."""
from __future__ import annotations

from pathlib import Path

from core.errors import ValidationError


def decode_image(path: str | Path) -> list[str]:
    """Texts of the QR codes found in the image, in reading order."""
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            results = zxingcpp.read_barcodes(image.convert("L"),
                                             formats=zxingcpp.BarcodeFormat.QRCode)
    except FileNotFoundError:
        raise ValidationError(f"{path}: no such image", field="image")
    except (UnidentifiedImageError, OSError) as exc:
        raise ValidationError(f"{path}: not an image ({exc})", field="image")
    return [r.text for r in results if r.valid]
