"""Photo augmentation at training time: more distinct views of each photo in a many-epoch run.

The 2-hour recipes see each of Flickr8k's 6,000 training photos about 90 times. Both views are
drawn from the step's generator, so a resumed run sees what the uninterrupted run saw.
- `mirror_half`: a random half of the photos mirrored left-right (`input.photo_flip`).
- `random_crops`: each photo cut to a random box covering at least `input.photo_crop` of its
  area, aspect ratio 3/4 to 4/3 as far as the box fits (Inception-style random-resized crop).
  The crops are cut from photos stored at twice the input size, so that a crop keeps its detail
  (the whole photo, sampled bilinearly at half size, is its 2x2 average).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from engine.model.config import InputConfig

STORED_SCALE = 2  # photos are stored at this multiple of the input size when they are to be cropped
ASPECT = (3 / 4, 4 / 3)


def stored_size(image_size: int, inputs: InputConfig) -> int:
    """The side at which training photos are decoded and cached: larger than the input when crops are cut from them."""
    return image_size * STORED_SCALE if inputs.photo_crop < 1.0 else image_size


def mirror_half(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each (B, C, H, W) photo mirrored left-right with probability 1/2."""
    flip = torch.rand(len(images), generator=generator, device=images.device) < 0.5
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def random_crops(images: torch.Tensor, size: int, min_area: float, generator: torch.Generator) -> torch.Tensor:
    """uint8 (B, 3, S, S) photos -> uint8 (B, 3, size, size) random crops, each covering min_area..1 of its photo.

    One bilinear resampling of the whole batch (an affine grid per photo). With min_area 1 and
    S == size, or no photos (a text-only batch), the photos pass through unchanged.
    """
    if not len(images) or (min_area >= 1.0 and images.shape[-1] == size):
        return images
    n, device = len(images), images.device
    area = min_area + (1.0 - min_area) * torch.rand(n, generator=generator, device=device)
    # aspect ratios whose box fits inside the photo at this area: area <= aspect <= 1 / area
    log_lo, log_hi = area.log().clamp(min=math.log(ASPECT[0])), (-area.log()).clamp(max=math.log(ASPECT[1]))
    aspect = torch.exp(log_lo + (log_hi - log_lo) * torch.rand(n, generator=generator, device=device))
    width, height = (area * aspect).sqrt(), (area / aspect).sqrt()  # shares of the photo's side
    centre_x = (1.0 - width) * (2 * torch.rand(n, generator=generator, device=device) - 1)  # grid units: -1..1 spans the photo
    centre_y = (1.0 - height) * (2 * torch.rand(n, generator=generator, device=device) - 1)
    theta = torch.zeros(n, 2, 3, device=device)
    theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = width, centre_x, height, centre_y
    grid = F.affine_grid(theta, [n, 3, size, size], align_corners=False)
    sampled = F.grid_sample(images.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
    return sampled.round_().clamp_(0, 255).to(torch.uint8)
