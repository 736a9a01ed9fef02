"""The demo's branding: the coffee chain's name, colours, logo and favicon, so
`make run` looks like the shop's own program. The logo is drawn with Pillow at
seed time (no picture files in the repository), like the rewards' pictures.

Kept when it is set already: a second seed, or branding a person changed in
the admin, stays as it is.
"""

from __future__ import annotations

import io

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

from members.services import branding_ensure, branding_update

PROGRAM_NAME = "Zerno Coffee Club"
SHORT_NAME = "Zerno"
PRIMARY = "#6f4e37"  # roasted coffee: white text reads on it (7:1)
SECONDARY = "#c08a3e"  # caramel
CREAM = (245, 230, 208)
BROWN = (111, 78, 55)


def logo_png(size: int = 256) -> bytes:
    """A coffee bean on a round brown badge, on transparency."""
    scale = 4  # drawn large, then shrunk: smooth edges without antialiasing
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, big - 1, big - 1), fill=BROWN)
    bean = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    bean_draw = ImageDraw.Draw(bean)
    w, h = big * 0.36, big * 0.5
    cx, cy = big / 2, big / 2
    bean_draw.ellipse((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), fill=CREAM)
    bean_draw.arc(
        (cx - w * 0.75, cy - h * 0.4, cx + w * 0.08, cy + h * 0.4),
        start=-60,
        end=60,
        fill=BROWN,
        width=max(2, big // 40),
    )
    image.alpha_composite(bean.rotate(-30, center=(cx, cy)))
    out = io.BytesIO()
    image.resize((size, size), Image.LANCZOS).save(out, "PNG")
    return out.getvalue()


def seed(*, command=None) -> bool:
    """Brand the demo program; False (nothing changed) when a name or a logo
    is set already."""
    row = branding_ensure()
    if row.program_name or row.logo:
        return False
    branding_update(
        program_name=PROGRAM_NAME,
        short_name=SHORT_NAME,
        primary_color=PRIMARY,
        secondary_color=SECONDARY,
        logo=ContentFile(logo_png(256), name="zerno-logo.png"),
        favicon=ContentFile(logo_png(64), name="zerno-favicon.png"),
    )
    if command is not None:
        command.stdout.write(f"Branding: {PROGRAM_NAME}.")
    return True
