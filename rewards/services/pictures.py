"""Reward pictures: the fixed-size thumbnail the catalog and the voucher show."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from members.errors import InvalidInput
from members.images import ImageUnreadable, thumbnail_jpeg
from rewards.models import Reward

REWARD_THUMBNAIL_SIZE = (600, 400)


def reward_thumbnail_refresh(*, reward: Reward) -> bool:
    """Make the reward's thumbnail from its picture when the picture is new (an
    upload not stored yet) or has no thumbnail; drop it when the picture is gone.
    Changes `reward` in memory (the caller saves it) and writes the thumbnail
    file to the media storage. Returns whether a thumbnail was made. Locks
    nothing; queues nothing."""
    if not reward.image:
        reward.image_thumbnail = None
        return False
    if reward.image._committed and reward.image_thumbnail:
        return False
    picture = reward.image
    stored = picture._committed
    picture.open("rb")
    try:
        data = thumbnail_jpeg(picture.file, REWARD_THUMBNAIL_SIZE)
    except ImageUnreadable as exc:
        raise InvalidInput(
            _("This file is not a picture that can be read."), field="image"
        ) from exc
    finally:
        # A new upload stays open for the save that stores it.
        if stored:
            picture.close()
        else:
            picture.file.seek(0)
    stem = PurePosixPath(reward.image.name).stem or "reward"
    reward.image_thumbnail.save(f"{stem}.jpg", ContentFile(data), save=False)
    return True
