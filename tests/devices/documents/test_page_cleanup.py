"""Page clean-up on synthetic photographs of A4 pages (synthetic_pages.py): the outline is
found to within CORNER_TOLERANCE_PX, the page comes out upright and rectangular, and what is
printed on it is still there: the QR code decodes from the stored bytes (zxing-cpp, the
project's decoder) and the lines of Arabic and English text match the printed ink."""
import cv2
import numpy as np
import pytest

from core.errors import DeviceError
from devices.documents.cleanup import (MAX_PHOTO_PAGE_BYTES, MAX_TEXT_PAGE_BYTES, PAGE_SIZE,
                                       NoPageFound, clean_page, encode_page)
from devices.scanning.decoders import DecoderChain
from synthetic_pages import PAGE_H, PAGE_W, a4_page, empty_desk, photograph, qr_origin

QR_TEXT = "NFA:MUH:MUH-D01-A2026-000042"
CORNER_TOLERANCE_PX = 6.0  # in the 1920x1080 frame
QR_PLACE_TOLERANCE_PX = 12  # ~1% of the page's width: where the QR lands on the clean page
ARABIC_ROWS, ENGLISH_ROWS = (120, 390), (390, 620)  # page rows of the two kinds of line
ZXING = DecoderChain(("zxing",), formats="qr")

CASES = {
    "straight": {"angle_deg": 0},
    "turned_8": {"angle_deg": 8},
    "turned_minus_15": {"angle_deg": -15},
    "turned_25": {"angle_deg": 25, "height_px": 760},
    "perspective": {"angle_deg": 5, "keystone": 0.18},
    "poor_light": {"angle_deg": -10, "keystone": 0.1, "light": 0.45, "noise": 6},
    "shadow_over_a_third": {"angle_deg": 12, "shadow": True},
    "dim_shadowed_and_tilted": {"angle_deg": -8, "keystone": 0.12, "light": 0.5, "noise": 6,
                                "shadow": True},
}


@pytest.fixture(scope="module")
def text_page():
    return a4_page(QR_TEXT)


def qr_in(image):
    found = ZXING.decode(image)
    assert [d.text for d in found] == [QR_TEXT], "the QR code on the page does not decode"
    return np.array(found[0].corners, np.float64)


def ink_agreement(clean: np.ndarray, printed: np.ndarray, rows: tuple[int, int]):
    """(recall, precision) of ink in the page rows: the share of printed ink with clean ink
    within 1 px, and of clean ink with printed ink within 1 px."""
    top, bottom = rows
    printed_ink = cv2.cvtColor(printed, cv2.COLOR_BGR2GRAY)[top:bottom] < 128
    clean_ink = clean[top:bottom] == 0
    near = np.ones((3, 3), np.uint8)
    recall = (cv2.dilate(clean_ink.astype(np.uint8), near) > 0)[printed_ink].mean()
    precision = (cv2.dilate(printed_ink.astype(np.uint8), near) > 0)[clean_ink].mean()
    return float(recall), float(precision)


@pytest.mark.parametrize("case", list(CASES))
def test_a_photographed_page_comes_out_flat_upright_and_legible(case, text_page):
    shot = photograph(text_page, seed=len(case), **CASES[case])
    frame_before = shot.frame.copy()
    page = clean_page(shot.frame, mode="text")

    assert np.array_equal(shot.frame, frame_before)  # the caller's frame is not touched
    errors = np.linalg.norm(page.corners - shot.corners, axis=1)  # TL, TR, BR, BL in order
    assert errors.max() <= CORNER_TOLERANCE_PX, errors

    # A4 proportions, portrait, text mode: black on white only
    height, width = page.image.shape
    assert (width, height) == PAGE_SIZE
    assert abs(height / width - 297 / 210) / (297 / 210) <= 0.02
    assert set(np.unique(page.image)) <= {0, 255}

    data, media_type = encode_page(page)
    assert media_type == "image/png" and len(data) <= MAX_TEXT_PAGE_BYTES
    stored = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert np.array_equal(stored, page.image)

    # upright and rectangular: the QR is where it was printed, square and level
    corners = qr_in(stored)
    assert np.linalg.norm(corners[0] - qr_origin(QR_TEXT)) <= QR_PLACE_TOLERANCE_PX
    top_edge = corners[1] - corners[0]
    left_edge = corners[3] - corners[0]
    assert abs(np.degrees(np.arctan2(top_edge[1], top_edge[0]))) <= 1.0
    assert abs(np.linalg.norm(top_edge) / np.linalg.norm(left_edge) - 1) <= 0.03

    # both lines of large text are there, stroke for stroke (within 1 px)
    for rows in (ARABIC_ROWS, ENGLISH_ROWS):
        recall, precision = ink_agreement(stored, text_page, rows)
        assert recall >= 0.95 and precision >= 0.95, (rows, recall, precision)


def test_text_printed_slightly_askew_on_the_sheet_is_turned_level(text_page):
    """The sheet is straight (its outline is found) but the print on it is turned by 2
    degrees: the residual tilt is taken away."""
    centre = (PAGE_W / 2, PAGE_H / 2)
    askew = cv2.warpAffine(text_page, cv2.getRotationMatrix2D(centre, 2.0, 1.0),
                           (PAGE_W, PAGE_H), borderValue=(250, 250, 246))
    shot = photograph(askew, angle_deg=6, seed=5)
    page = clean_page(shot.frame, mode="text")
    assert np.linalg.norm(page.corners - shot.corners, axis=1).max() <= CORNER_TOLERANCE_PX
    corners = qr_in(page.image)
    top_edge = corners[1] - corners[0]
    assert abs(np.degrees(np.arctan2(top_edge[1], top_edge[0]))) <= 0.6


def test_auto_keeps_a_colour_photograph_in_colour_and_makes_a_text_page_black_and_white(
        text_page):
    photo = clean_page(photograph(a4_page(photo=True), angle_deg=-7, seed=2).frame)
    assert photo.mode == "photo" and photo.image.shape == (PAGE_SIZE[1], PAGE_SIZE[0], 3)
    data, media_type = encode_page(photo)
    assert media_type == "image/jpeg" and len(data) <= MAX_PHOTO_PAGE_BYTES
    stored = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    blue, green, red = stored[1100:1600, 140:320].reshape(-1, 3).mean(axis=0)  # red block
    assert red > 1.8 * green and red > 1.8 * blue

    text = clean_page(photograph(text_page, angle_deg=7, seed=3).frame)
    assert text.mode == "text" and text.image.ndim == 2
    assert set(np.unique(text.image)) <= {0, 255}


def test_the_mode_can_be_forced(text_page):
    frame = photograph(text_page, angle_deg=3, seed=4).frame
    assert clean_page(frame, mode="photo").mode == "photo"
    assert clean_page(frame, mode="text").mode == "text"
    with pytest.raises(ValueError, match="mode"):
        clean_page(frame, mode="sepia")


def test_a_frame_with_no_page_is_refused_clearly():
    frame = empty_desk()
    before = frame.copy()
    with pytest.raises(NoPageFound) as refused:
        clean_page(frame)
    assert isinstance(refused.value, DeviceError)
    assert refused.value.code == "no_page_found"
    assert "no page" in refused.value.message
    assert np.array_equal(frame, before)


def test_a_page_too_far_away_is_no_page(text_page):
    # 300 px tall: about 4% of the frame, too small to read; NoPageFound, not a blurry page
    shot = photograph(text_page, height_px=300, seed=6)
    with pytest.raises(NoPageFound):
        clean_page(shot.frame)


def test_a_picture_that_is_not_an_8_bit_image_is_refused():
    with pytest.raises(DeviceError, match="8-bit image"):
        clean_page(np.zeros((1080, 1920, 3), np.float32))
    with pytest.raises(DeviceError, match="8-bit image"):
        clean_page(np.zeros((0, 0), np.uint8))
    with pytest.raises(DeviceError, match="too small to be a page"):
        clean_page(np.zeros((20, 3000), np.uint8), outline=False)


def test_without_an_outline_the_whole_frame_is_the_page_in_its_own_proportions(text_page):
    scan = cv2.resize(text_page, (827, 1170), interpolation=cv2.INTER_AREA)  # 100 dpi scan
    page = clean_page(scan, mode="text", outline=False)
    assert page.image.shape == (1754, 1240)
    assert page.corners.tolist() == [[0, 0], [827, 0], [827, 1170], [0, 1170]]
    qr_in(page.image)
    wide = np.full((600, 1600, 3), 255, np.uint8)  # a landscape drawing stays landscape
    assert clean_page(wide, outline=False).image.shape[1] > 1240
