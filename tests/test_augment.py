"""Training-time photo augmentation: mirrors and random crops, the same for the same step."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.model.config import InputConfig
from engine.train.augment import mirror_half, random_crops, stored_size
from engine.train.loop import step_generator

CPU = torch.device("cpu")


def test_photo_flip_mirrors_about_half_of_the_photos_the_same_way_for_the_same_step():
    photos = torch.randint(0, 256, (200, 3, 8, 8), dtype=torch.uint8)
    once, again = mirror_half(photos, step_generator(0, 5, CPU)), mirror_half(photos, step_generator(0, 5, CPU))
    assert torch.equal(once, again)
    mirrored = (once == photos.flip(-1)).flatten(1).all(dim=1)
    assert ((once == photos).flatten(1).all(dim=1) | mirrored).all()  # each photo is itself or its mirror
    assert 70 < int(mirrored.sum()) < 130


def test_photos_are_stored_at_twice_the_input_size_only_when_they_are_cropped():
    assert stored_size(112, InputConfig()) == 112
    assert stored_size(112, InputConfig(photo_crop=0.5)) == 224


def _ramps(n: int, side: int) -> torch.Tensor:
    """Photos whose red channel is 8 * x and green channel 8 * y (pixel centres), blue 0."""
    ramp = (torch.arange(side, dtype=torch.float32) + 0.5) * 8
    photo = torch.stack([ramp.expand(side, side), ramp[:, None].expand(side, side), torch.zeros(side, side)])
    return photo.round().to(torch.uint8).expand(n, -1, -1, -1).contiguous()


def test_uncropped_photos_pass_through_or_are_halved_by_averaging():
    photos = torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8)
    assert random_crops(photos, 16, 1.0, step_generator(0, 1, CPU)) is photos
    none = photos[:0]  # a text-only batch
    assert random_crops(none, 8, 0.5, step_generator(0, 1, CPU)) is none
    halved = random_crops(photos, 8, 1.0, step_generator(0, 1, CPU))
    expected = F.avg_pool2d(photos.float(), 2).round().to(torch.uint8)
    assert (halved.int() - expected.int()).abs().max() <= 1


def test_random_crops_cover_the_asked_share_of_each_photo_inside_it_and_repeat_for_the_same_step():
    side, size, min_area = 30, 15, 0.4
    photos = _ramps(300, side)
    crops = random_crops(photos, size, min_area, step_generator(3, 7, CPU))
    assert crops.shape == (300, 3, size, size) and crops.dtype == torch.uint8
    assert torch.equal(crops, random_crops(photos, size, min_area, step_generator(3, 7, CPU)))
    assert not torch.equal(crops, random_crops(photos, size, min_area, step_generator(3, 8, CPU)))
    # On the ramps, a crop's first and last output columns (rows) tell its box in the photo.
    red, green = crops[:, 0].float() / 8, crops[:, 1].float() / 8
    width = (red[:, :, -1] - red[:, :, 0]).mean(dim=1) * size / (size - 1) / side
    height = (green[:, -1, :] - green[:, 0, :]).mean(dim=1) * size / (size - 1) / side
    area = width * height
    assert (area > min_area - 0.05).all() and (area < 1.03).all()
    assert area.min() < min_area + 0.1 and area.max() > 0.9  # the whole range is drawn
    aspect = width / height
    assert (aspect > 0.75 - 0.06).all() and (aspect < 4 / 3 + 0.1).all()
    assert red.min() >= 0 and red.max() <= side and green.min() >= 0 and green.max() <= side
    left = red[:, :, 0].mean(dim=1) / side
    assert left.min() < 0.05 and left.max() > 0.2  # crops sit at different places
