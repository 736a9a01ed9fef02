"""Pictures of the demo's rewards, drawn with Pillow when the demo is seeded (no
picture files in the repository): a coloured tile with a simple shape. The
last reward keeps none, so the catalog shows the placeholder too.

Keyed by position in demo.data.REWARDS, not by name (the names are translated).
"""

from __future__ import annotations

import io

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

from rewards.models import Reward
from rewards.services import reward_save

SIZE = (900, 600)  # bigger than the thumbnail, as an upload would be
WHITE = (255, 255, 255)


def _cup(draw: ImageDraw.ImageDraw) -> None:
    draw.rounded_rectangle((330, 230, 530, 440), radius=30, fill=WHITE)
    draw.arc((490, 270, 600, 380), start=-90, end=90, fill=WHITE, width=22)
    draw.rounded_rectangle((290, 450, 610, 475), radius=12, fill=WHITE)
    for x in (380, 430, 480):  # steam
        draw.arc((x - 20, 120, x + 20, 210), start=100, end=260, fill=WHITE, width=10)


def _croissant(draw: ImageDraw.ImageDraw) -> None:
    draw.chord((250, 200, 650, 500), start=180, end=360, fill=WHITE)
    for i, x in enumerate(range(300, 620, 80)):
        draw.line((x, 350, x + 20 + 5 * i, 230), fill=(222, 160, 80), width=8)


def _tag(draw: ImageDraw.ImageDraw) -> None:
    draw.polygon(
        [(260, 300), (360, 190), (640, 190), (640, 410), (360, 410)], fill=WHITE
    )
    draw.ellipse((330, 280, 370, 320), fill=(46, 139, 87))
    draw.line((430, 350, 590, 250), fill=(46, 139, 87), width=18)


def _percent(draw: ImageDraw.ImageDraw) -> None:
    draw.ellipse((300, 170, 400, 270), outline=WHITE, width=24)
    draw.ellipse((500, 330, 600, 430), outline=WHITE, width=24)
    draw.line((320, 440, 580, 160), fill=WHITE, width=28)


def _bag(draw: ImageDraw.ImageDraw) -> None:
    draw.polygon([(300, 250), (600, 250), (630, 480), (270, 480)], fill=WHITE)
    draw.arc((370, 150, 530, 330), start=180, end=360, fill=WHITE, width=18)
    cx, cy, r = 450, 370, 45  # a leaf on the bag
    draw.ellipse((cx - r, cy - r / 2, cx + r, cy + r / 2), fill=(76, 140, 74))
    draw.line((cx - r, cy, cx + r, cy), fill=WHITE, width=4)


# Position in REWARDS: (tile colour, shape). The sixth (the master class) has none.
PICTURES = {
    0: ((111, 78, 55), _cup),  # coffee
    1: ((214, 140, 45), _croissant),  # croissant
    2: ((46, 139, 87), _tag),  # money off
    3: ((200, 60, 80), _percent),  # percent off
    4: ((120, 160, 100), _bag),  # eco bag
}


def reward_picture_png(index: int) -> bytes | None:
    """The demo picture of the reward at `index` of REWARDS (None: it has none)."""
    if index not in PICTURES:
        return None
    colour, shape = PICTURES[index]
    image = Image.new("RGB", SIZE, colour)
    draw = ImageDraw.Draw(image)
    # A lighter disc behind the shape, for a little depth.
    light = tuple(min(255, c + 40) for c in colour)
    draw.ellipse((200, 50, 700, 550), fill=light)
    shape(draw)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def reward_pictures_attach(rewards: list[Reward]) -> int:
    """Give the demo rewards their pictures (thumbnails made by reward_save)."""
    attached = 0
    for index, reward in enumerate(rewards):
        data = reward_picture_png(index)
        if data is None:
            continue
        reward.image = ContentFile(data, name=f"demo-reward-{index + 1}.png")
        reward_save(reward=reward)
        attached += 1
    return attached
