"""Pictures made with Pillow: thumbnails of a fixed size, icons."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from members.images import ImageUnreadable, app_icon_png, thumbnail_jpeg


def _picture(size, mode="RGB", colour=(10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("size", [(2000, 500), (300, 900), (600, 400), (40, 30)])
def test_thumbnails_fill_the_size_exactly_whatever_the_shape(size):
    thumb = Image.open(io.BytesIO(thumbnail_jpeg(_picture(size), (600, 400))))
    assert thumb.format == "JPEG"
    assert thumb.size == (600, 400)


def test_transparent_parts_become_white_not_black():
    data = _picture((100, 100), mode="RGBA", colour=(0, 0, 0, 0))
    thumb = Image.open(io.BytesIO(thumbnail_jpeg(data, (60, 40))))
    r, g, b = thumb.getpixel((30, 20))
    assert min(r, g, b) > 245


def test_a_phone_photo_stored_sideways_is_turned_upright():
    # Stored 400 × 200, red left and blue right, with the EXIF note "turn 90°
    # clockwise to view": upright it is 200 × 400, red on top.
    stored = Image.new("RGB", (400, 200), (220, 0, 0))
    stored.paste((0, 0, 220), (200, 0, 400, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    stored.save(out, "JPEG", exif=exif, quality=95)

    thumb = Image.open(io.BytesIO(thumbnail_jpeg(out.getvalue(), (100, 200))))

    top, bottom = thumb.getpixel((50, 20)), thumb.getpixel((50, 180))
    assert top[0] > 180 and top[2] < 60
    assert bottom[2] > 180 and bottom[0] < 60


def test_what_is_not_a_picture_is_refused():
    with pytest.raises(ImageUnreadable):
        thumbnail_jpeg(b"%PDF-1.4 not a picture", (60, 40))


def test_icons_are_square_pngs_of_the_size_asked():
    for size in (180, 192, 512):
        icon = Image.open(io.BytesIO(app_icon_png(size=size, background="#0d6efd")))
        assert icon.format == "PNG"
        assert icon.size == (size, size)
